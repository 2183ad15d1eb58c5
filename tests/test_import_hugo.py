"""`kb import hugo`: the fixture site in tests/import_fixtures/hugo, unit by unit and end to end."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.importers.hugo import convert_shortcodes, params, read_site
from kb.importers.records import Notice
from tests.importing import FIXTURES, import_site, imported_portal

SITE = FIXTURES / "hugo"


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, dict]:
    articles = tmp_path / "articles"
    return articles, import_site("hugo", articles)


def test_shortcode_parameters():
    assert params(' src="a b.png" alt=\'Alt\' "pos" title=`T`') == (["pos"], {"src": "a b.png", "alt": "Alt",
                                                                            "title": "T"})


def test_shortcodes_converted_or_reported_with_their_line():
    notices: list[Notice] = []
    body = ('[a]({{< ref "/docs/x.md#part" >}}) [b]({{< relref "y" >}})\n'
            '{{< figure src="/i/a.png" title="Shot" >}}\n{{% highlight go %}}\nx := 1\n{{% /highlight %}}\n'
            '{{< tweet 1 >}}\n{{< details >}}hidden{{< /details >}}\n')
    out = convert_shortcodes(body, "content/p.md", 3, "content", notices)
    assert out.splitlines()[:5] == ["[a](/content/docs/x.md#part) [b](y)", '![Shot](/i/a.png "Shot")', "```go",
                                    "x := 1", "```"]
    assert "{{< tweet 1 >}}" in out
    assert [(n.line, n.message) for n in notices] == [
        (8, "shortcode 'tweet' is not supported; kept as written"),
        (9, "shortcode 'details' is not supported; kept as written"),
        (9, "shortcode 'details' is not supported; kept as written")]


def test_sections_bundles_languages_and_drafts():
    site = read_site(SITE)
    pages = {p.source: p for p in site.pages}
    assert site.categories["docs"] == {"title": "Documentation", "description": "How to use the product"}
    bundle = pages["content/docs/install/index.md"]
    assert (bundle.slug, bundle.url, bundle.base_dir) == ("install", "/docs/install/", "content/docs/install")
    assert bundle.aliases == ["/install.html", "/old/setup/"]
    russian = pages["content/docs/configure.ru.md"]
    assert (russian.lang, russian.key, russian.url) == ("ru", "content/docs/configure.md", "/ru/docs/configure/")
    assert pages["content/docs/advanced/configure.md"].draft
    assert {p for p, _ in site.skipped} == {"content/_index.md", "content/docs/_index.md",
                                            "content/docs/advanced/_index.md"}
    assert site.base_path == "/manual"


def test_import_keeps_links_images_aliases_and_translations(imported):
    articles, summary = imported
    install = (articles / "docs/install.md").read_text(encoding="utf-8")
    assert "aliases:\n- /manual/docs/install\n- /manual/install.html\n- /manual/old/setup\n" in install
    assert "![The first screen](../assets/docs/install/screen.png)\n\n*After the first start*" in install
    assert "[configure it](configure.md#proxy)" in install
    assert "```bash\nsystemctl enable --now agent\n```" in install
    configure = (articles / "docs/configure.md").read_text(encoding="utf-8")
    assert "![Logo](../assets/images/logo.png)" in configure and "[installing](install.md)" in configure
    assert "id: configure\n" in (articles / "docs/configure.ru.md").read_text(encoding="utf-8")
    assert "status: draft" in (articles / "docs/advanced-configure.md").read_text(encoding="utf-8")
    faq = (articles / "faq/questions.md").read_text(encoding="utf-8")
    assert "questions:\n- Does the agent need root?\n- Where are the logs?\n" in faq
    assert "[configuration](../docs/configure.md)" in faq
    notes = (articles / "guides/primechaniya.md").read_text(encoding="utf-8")
    assert "Список изменений версии 2." in notes
    assert {"path": "content/guides/примечания.md", "line": 2,
            "message": "not UTF-8: read as koi8_r (check the converted text)"} in summary["notices"]
    assert {"path": "content/docs/install/index.md", "line": 19,
            "message": "shortcode 'youtube' is not supported; kept as written"} in summary["notices"]
    assert (summary["imported"], summary["links_rewritten"], summary["links_broken"],
            summary["assets_copied"]) == (6, 3, 0, 2)
    again = import_site("hugo", articles)
    assert (again["imported"], again["updated"], again["unchanged"]) == (0, 0, 6)


def test_end_to_end_search_redirect_and_image(tmp_path: Path, migrated_sqlite: Path, minilm):
    client, _ = imported_portal("hugo", tmp_path, migrated_sqlite, minilm)
    assert b'href="/articles/install' in client.get("/search?q=copy the agent binary systemctl").data
    moved = client.get("/manual/old/setup/")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/articles/install")
    assert client.get("/manual/docs/advanced/configure/").status_code == 404  # a draft
    page = client.get("/articles/install").get_data(as_text=True)
    src = re.search(r'<img[^>]*src="([^"]+)"', page).group(1)
    assert src == "/files/assets/docs/install/screen.png"
    assert client.get(src).status_code == 200


def test_escaped_shortcodes_are_shown_as_written_not_run():
    notices: list[Notice] = []
    body = ('Write `{{</* figure src="/a.png" */>}}` or\n{{%/* highlight go\n*/%}} to get it.\n'
            '{{< tweet 2 >}}\n')
    out = convert_shortcodes(body, "content/p.md", 1, "content", notices)
    assert out.splitlines()[:3] == ['Write `{{< figure src="/a.png" >}}` or', "{{% highlight go", "%}} to get it."]
    assert [(n.line, n.message) for n in notices] == [(4, "shortcode 'tweet' is not supported; kept as written")]
