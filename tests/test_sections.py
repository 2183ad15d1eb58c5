from __future__ import annotations

import re

from indexer.render import render_markdown
from kb.sections import chunk_words, plain_text, split_sections

BODY = """Intro paragraph.

## Windows 11
Open **Settings**.

```
## not a heading
```

## Windows 11
Again.

### Подключение к VPN
Текст.
"""


def test_sections_split_at_headings_outside_code():
    sections = split_sections(BODY)
    assert [(s.anchor, s.heading) for s in sections] == [
        ("", ""), ("windows-11", "Windows 11"), ("windows-11_1", "Windows 11"),
        ("подключение-к-vpn", "Подключение к VPN")]
    assert "## not a heading" in sections[1].text


def test_section_anchors_match_rendered_heading_ids():
    html = render_markdown(BODY, lambda target: None)
    ids = re.findall(r'<h\d id="([^"]+)"', html)
    assert ids == [s.anchor for s in split_sections(BODY) if s.anchor]


def test_plain_text_drops_markup():
    assert plain_text("See **[the guide](x.md)** and `code`\n- item\n1. step") == "See the guide and code\nitem\nstep"


def test_chunk_words_respects_limit_and_keeps_all_words():
    text = "\n\n".join(" ".join(f"w{p}_{i}" for i in range(n)) for p, n in enumerate([5, 12, 3, 30]))
    chunks = chunk_words(text, 10)
    assert all(len(c.split()) <= 10 for c in chunks)
    assert " ".join(chunks).split() == text.split()
    assert chunk_words("short text", 10) == ["short text"]
    assert chunk_words("", 10) == []


def test_render_sanitises_and_rewrites_article_links():
    body = ('<script>alert(1)</script>\n\n<img src="x" onerror="alert(2)">\n\n'
            '[bad](javascript:alert(3)) [ok](../a/other.md#steps) [web](https://example.com)\n')
    html = render_markdown(body, lambda target: "/articles/other" if target == "../a/other.md" else None)
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    assert 'href="/articles/other#steps"' in html
    assert 'href="https://example.com"' in html


SUBSECTIONS = """## Set up **two-step** login
text
### Use `kb build` & [links](x.md)
t
#### 1.2 Step: "Disable" — Send!
t
### Repeated
a
### Repeated
b
## Repeated_1
c
### ???
d
### A &amp; B &lt;x&gt;
f
## Ends with hashes ##
h
###### six
j
"""


def test_sub_section_anchors_match_the_rendered_page_ids_at_every_level():
    # Repeated headings, a heading that slugifies to nothing, entities: the ids Python-Markdown's toc gives.
    html = render_markdown(SUBSECTIONS, lambda target: None)
    ids = re.findall(r'<h\d id="([^"]+)"', html)
    sections = split_sections(SUBSECTIONS)
    assert [s.anchor for s in sections] == ids
    assert "repeated_2" in ids and "_1" in ids  # the cases an own numbering scheme got wrong
    assert sections[-3].heading == "A & B <x>"


def test_sections_carry_the_chain_of_enclosing_headings():
    paths = [s.path for s in split_sections(SUBSECTIONS)]
    assert paths[:3] == [("Set up two-step login",), ("Set up two-step login", "Use kb build & links"),
                         ("Set up two-step login", "Use kb build & links", '1.2 Step: "Disable" — Send!')]
    assert paths[3] == ("Set up two-step login", "Repeated")  # a ### closes the #### before it
    assert paths[5] == ("Repeated_1",)  # a ## closes every deeper heading
    assert paths[-1] == ("Ends with hashes", "six")  # a skipped level is no heading of the path
    assert split_sections(SUBSECTIONS)[2].heading_path == ('Set up two-step login › Use kb build & links › '
                                                           '1.2 Step: "Disable" — Send!')
