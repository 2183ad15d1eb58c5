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
