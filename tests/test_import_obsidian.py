"""`kb import obsidian`: the fixture vault in tests/import_fixtures/obsidian, unit by unit and end to end."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.importers.obsidian import _Vault, convert, read_site
from kb.importers.records import Notice
from tests.importing import FIXTURES, import_site, imported_portal

SITE = FIXTURES / "obsidian"


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, dict]:
    articles = tmp_path / "articles"
    return articles, import_site("obsidian", articles)


def test_wikilinks_embeds_callouts_and_tags(tmp_path: Path):
    vault = _Vault(tmp_path, ["a/Note one.md", "b/Note one.md", "b/Other.md", "Сводка.md"], ["img/pic.png", "doc.pdf"])
    notices: list[Notice] = []
    lines = ["[[Note one]] [[Other|see this]] [[Other#Big Heading]] [[#Local]]\n", "![[pic.png|300]] ![[Other]]\n",
             "> [!note] Read me\n", "> body #tag-one\n", "> > [!danger]+\n", "![[doc.pdf]] [[Сводка]] [[Gone]] #2 `#no`\n",
             "## Heading #not\n", "```\n", "[[Inside]] #inside\n", "```\n"]
    out, tags = convert(lines, "b/Here.md", 3, vault, notices)
    assert "".join(out) == (
        "[Note one](/b/Note%20one.md) [see this](/b/Other.md) [Other > Big Heading](/b/Other.md#big-heading) "
        "[Local](#local)\n![pic](/img/pic.png) [Other](/b/Other.md)\n> **Read me**\n>\n> body #tag-one\n"
        "> > **Danger**\n> >\n[doc.pdf](/doc.pdf) [Сводка](/%D0%A1%D0%B2%D0%BE%D0%B4%D0%BA%D0%B0.md) [Gone](/Gone.md) #2 `#no`\n"
        "## Heading #not\n```\n[[Inside]] #inside\n```\n")
    assert tags == ["tag-one"]
    assert notices == [Notice("b/Here.md", 3, "[[Note one]] names 2 notes; linked to 'b/Note one.md'"),
                       Notice("b/Here.md", 4, "note embed ![[Other]] is not supported; kept as a link")]


def test_read_site_folders_tags_and_hidden_folders():
    site = read_site(SITE)
    pages = {p.source: p for p in site.pages}
    assert ".obsidian/notes.md" not in pages and len(pages) == 7
    welcome = pages["Welcome.md"]
    assert (welcome.category, welcome.tags, welcome.url) == ("general", ["start", "help", "onboarding",
                                                                         "faq/billing"], "/Welcome")
    assert pages["Guides/Install guide.md"].url == "/Guides/Install+guide"
    assert pages["Admin/Deep/Nested note.md"].category == "admin" and pages["Admin/Deep/Nested note.md"].draft
    assert pages["Admin/Сброс пароля.md"].slug == "sbros-parolya"
    assert Notice("Admin/legacy.md", 5, "not UTF-8: read as cp1251 (check the converted text)") in site.notices


def test_import_writes_what_the_vault_had(imported):
    articles, summary = imported
    welcome = (articles / "general/welcome.md").read_text(encoding="utf-8")
    assert "[the preparation](../guides/install-guide.md#before-you-start)" in welcome
    assert "![logo](../assets/attachments/logo.png)" in welcome and "See [Notes](../admin/notes.md) and Missing " \
                                                                  "note." in welcome
    assert "> **Shortcut**\n>\n> Press the button.\n" in welcome
    install = (articles / "guides/install-guide.md").read_text(encoding="utf-8")
    assert install.count("](../assets/attachments/screen-shot.png)") == 2
    assert "Back to [the start](../general/welcome.md)" in install  # by the note's alias
    assert "[[Not a link]] and #not-a-tag" in install
    assert (articles / "guides/guides-notes.md").is_file() and (articles / "admin/sbros-parolya.md").is_file()
    notices = {(n["path"], n["line"], n["message"].split(" ")[0]) for n in summary["notices"]}
    assert {("Welcome.md", 17, "[[Notes]]"), ("Welcome.md", 18, "link"), ("Welcome.md", 19, "note")} <= notices
    assert (summary["imported"], summary["links_broken"], summary["assets_copied"]) == (7, 1, 2)
    assert import_site("obsidian", articles)["unchanged"] == 7


def test_end_to_end_search_redirect_and_image(tmp_path: Path, migrated_sqlite: Path, minilm):
    client, _ = imported_portal("obsidian", tmp_path, migrated_sqlite, minilm)
    assert b'href="/articles/install-guide' in client.get("/search?q=installer package fresh server").data
    moved = client.get("/Guides/Install+guide")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/articles/install-guide")
    page = client.get("/articles/welcome").get_data(as_text=True)
    src = re.search(r'<img[^>]*src="([^"]+)"', page).group(1)
    assert client.get(src).mimetype == "image/png"
