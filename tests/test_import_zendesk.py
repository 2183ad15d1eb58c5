"""`kb import zendesk`: the Help Center API export in tests/import_fixtures/zendesk, unit by unit and end to end."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.importers.records import Notice
from kb.importers.zendesk import _Body, language, place_sections, read_site
from tests.importing import FIXTURES, import_site, imported_portal, kb

SITE = FIXTURES / "zendesk"


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, dict]:
    articles = tmp_path / "articles"
    return articles, import_site("zendesk", articles)


def test_locales_become_kb_languages():
    assert [language(x) for x in ("en-us", "ru", "pt-BR")] == ["en", "ru", "pt"]


def test_sections_become_categories_qualified_when_two_share_a_name():
    categories = [{"id": 1, "name": "Start", "position": 0}, {"id": 2, "name": "Admin", "position": 1}]
    sections = [{"id": 20, "category_id": 2, "name": "Setup"}, {"id": 10, "category_id": 1, "name": "Setup"},
                {"id": 21, "category_id": 2, "name": "Users", "description": "People"},
                {"id": 22, "category_id": 2, "name": "Deep", "parent_section_id": 21}]
    ids, found = place_sections(categories, sections)
    assert ids == {"10": "start-setup", "20": "admin-setup", "21": "users", "22": "users"}
    assert list(found) == ["start-setup", "admin-setup", "users"]  # in the help center's order
    assert found["users"] == {"title": "Admin: Users", "description": "People"}
    _, single = place_sections(categories[:1], [{"id": 10, "category_id": 1, "name": "Setup"}])
    assert single == {"setup": {"title": "Setup", "description": ""}}


def test_body_links_and_attachments(tmp_path: Path):
    (tmp_path / "attachments" / "5").mkdir(parents=True)
    (tmp_path / "attachments" / "5" / "a b.png").write_bytes(b"png")
    notices: list[Notice] = []
    body = _Body(tmp_path, "https://hc.example.com", {"7"}, "articles.json#1", notices)
    html = ('<p><a href="https://hc.example.com/hc/en-us/articles/7-Title#part">one</a> '
            '<a href="https://other.example.com/x.png">two</a></p>\n<p><img src="/hc/article_attachments/5/a b.png">'
            '</p>\n<p><a href="https://cdn.example.com/hc/article_attachments/6/gone.docx">doc</a></p>'
            '<script>x</script>')
    out = body.convert(html)
    assert out == ("[one](/hc/articles/7#part) [two](https://other.example.com/x.png)\n\n"
                   "![](/attachments/5/a%20b.png)\n\n"
                   "[doc](https://cdn.example.com/hc/article_attachments/6/gone.docx)\n")
    assert notices == [Notice("articles.json#1", 5, "attachment 'https://cdn.example.com/hc/article_attachments/6/"
                                                    "gone.docx' is not in the export folder (attachments/<id>/); "
                                                    "it still points to the old help center"),
                       Notice("articles.json#1", 1, "<script> is not carried over (left out of the article)")]


def test_read_site_pages_translations_drafts_and_restricted_articles():
    site = read_site(SITE)
    pages = {(p.key, p.lang): p for p in site.pages}
    assert len(pages) == 7 and site.site_url == "https://help.example.com"
    install = pages[("articles/360001", "en")]
    assert (install.category, install.tags, install.url) == ("getting-started-setup", ["install", "setup"],
                                                             "/hc/en-us/articles/360001-Install-the-widget")
    russian = pages[("articles/360001", "ru")]
    assert (russian.title, russian.slug, russian.category) == ("Установка виджета", "install-the-widget",
                                                               "getting-started-setup")
    assert pages[("articles/360003", "en")].slug == "administration-setup-install-the-widget"
    assert pages[("articles/360004", "ru")].category == "accounts"  # a nested section: its top section
    assert pages[("articles/360006", "en")].draft is True
    assert pages[("articles/360005", "en")].audience == "internal"
    assert Notice("ru/articles.json", 6, "not UTF-8: read as cp1251 (check the converted text)") in site.notices


def test_import_writes_what_the_help_center_had(imported):
    articles, summary = imported
    install = (articles / "getting-started-setup/install-the-widget.md").read_text(encoding="utf-8")
    assert "aliases:\n- /hc/en-us/articles/360001-Install-the-widget\n- /hc/en-us/articles/360001\n" in install
    assert "tags:\n- install\n- setup\n" in install
    assert "## Before you start\n\nDownload the installer" in install
    assert "![Installer](../assets/attachments/555/screen-shot.png)" in install
    assert "[configure the proxy](configure-the-widget.md#proxy)" in install
    assert "[desktop install](../getting-started-setup/install-the-widget.md)" in \
        (articles / "administration-setup/administration-setup-install-the-widget.md").read_text(encoding="utf-8")
    assert "lang: ru\n" in (articles / "getting-started-setup/install-the-widget.ru.md").read_text(encoding="utf-8")
    assert "audience: internal\n" in (articles / "accounts/agent-escalation-policy.md").read_text(encoding="utf-8")
    assert "status: draft\n" in (articles / "accounts/upcoming-billing-changes.md").read_text(encoding="utf-8")
    assert (articles / "accounts/sbros-parolya.ru.md").is_file()
    assert (articles / "assets/attachments/777/config.pdf").is_file()
    notices = {(n["path"], n["line"], n["message"].split(" ")[0] + n["message"].split(" ")[-1])
               for n in summary["notices"]}
    assert {("articles-1.json#360001", 1, "<iframe>article)"), ("articles-1.json#360001", 9, "linkwritten"),
            ("articles-1.json#360002", 10, "filewritten")} <= notices
    assert (summary["imported"], summary["links_rewritten"], summary["links_broken"],
            summary["assets_copied"]) == (7, 2, 2, 2)
    assert summary["categories_added"] == ["getting-started-setup", "administration-setup", "accounts"]
    assert import_site("zendesk", articles)["unchanged"] == 7


def test_end_to_end_search_redirect_and_image(tmp_path: Path, migrated_sqlite: Path, minilm):
    client, _ = imported_portal("zendesk", tmp_path, migrated_sqlite, minilm)
    assert b'href="/articles/install-the-widget' in client.get("/search?q=installer package fresh server").data
    moved = client.get("/hc/en-us/articles/360001-Install-the-widget")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/articles/install-the-widget")
    assert client.get("/hc/en-us/articles/360005").status_code == 404  # staff only: no address leads to it
    page = client.get("/articles/install-the-widget").get_data(as_text=True)
    src = re.search(r'<img[^>]*src="([^"]+)"', page).group(1)
    assert client.get(src).mimetype == "image/png"


def test_an_empty_folder_or_bad_json_is_one_clear_error(tmp_path: Path):
    site = tmp_path / "export"
    site.mkdir()
    code, output = kb("import", "zendesk", str(site), "--articles", str(tmp_path / "articles"))
    assert (code, output.strip().splitlines()[-1]) == (1, f"Error: {site}: no pages found; is it a zendesk site? "
                                                          "(see README, \"Moving from Zendesk, Docusaurus or "
                                                          "Obsidian\")")
    (site / "articles.json").write_text('{"articles": [', encoding="utf-8")
    code, output = kb("import", "zendesk", str(site), "--articles", str(tmp_path / "articles"))
    assert code == 1 and f"Error: {site / 'articles.json'}: not the Help Center API's JSON" in output
    assert not (tmp_path / "articles").exists()


def test_translations_json_and_articles_without_a_known_section(tmp_path: Path):
    site = tmp_path / "export"
    site.mkdir()
    (site / "articles.json").write_text(
        '{"articles": [{"id": 1, "section_id": 9, "title": "Reset a password", "body": "<p>Click reset.</p>", '
        '"locale": "en-us", "source_locale": "en-us", "html_url": "https://hc.example.com/hc/en-us/articles/1-Reset",'
        ' "draft": false, "label_names": ["password"], "user_segment_id": null}]}', encoding="utf-8")
    (site / "translations.json").write_text(
        '{"translations": [{"id": 11, "source_id": 1, "source_type": "Article", "locale": "uk", "title": '
        '"Скинути пароль", "body": "<p>Натисніть <a href=\\"/hc/uk/articles/1\\">тут</a>.</p>", "draft": true, '
        '"html_url": "https://hc.example.com/hc/uk/articles/1-Reset"}, {"id": 12, "source_id": 5, '
        '"source_type": "Article", "locale": "uk", "title": "x", "body": "y"}]}', encoding="utf-8")
    read = read_site(site)
    pages = {p.lang: p for p in read.pages}
    assert sorted(pages) == ["en", "uk"] and pages["uk"].key == pages["en"].key == "articles/1"
    assert (pages["uk"].title, pages["uk"].draft, pages["uk"].tags) == ("Скинути пароль", True, ["password"])
    assert pages["uk"].body == "Натисніть [тут](/hc/articles/1).\n"
    assert pages["en"].category == "general"
    assert Notice("articles.json#1", 1, "section 9 is not in sections.json; the article goes to 'general'") \
        in read.notices
    assert Notice("translations.json", 1, "translation 12 of article 5: the article is not in the export") \
        in read.notices
