"""`kb import mkdocs`: the fixture site in tests/import_fixtures/mkdocs, unit by unit and end to end."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.importers.mkdocs import convert_blocks, page_url, read_site, walk_nav
from kb.importers.records import Notice
from tests.importing import FIXTURES, import_site, imported_portal, kb

SITE = FIXTURES / "mkdocs"


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, dict]:
    articles = tmp_path / "articles"
    return articles, import_site("mkdocs", articles)


def test_admonitions_become_blockquotes_with_a_bold_title():
    notices: list[Notice] = []
    lines = ['!!! danger "Careful now"\n', "    First.\n", "\n", "    !!! note\n", "        Inner.\n", "\n",
             "After.\n", '??? tip ""\n', "    Untitled.\n", "--8<-- \"x.md\"\n"]
    out = "".join(convert_blocks(lines, "docs/p.md", 4, notices))
    assert out.startswith("> **Careful now**\n>\n> First.\n>\n> > **Note**\n> >\n> > Inner.\n")
    assert "\nAfter.\n> Untitled.\n" in out
    assert notices == [Notice("docs/p.md", 13, "snippet ('--8<--') is not supported; kept as written")]


def test_addresses_and_nav():
    assert [page_url(p, True) for p in ("index.md", "a/index.md", "a/b.md")] == ["/", "/a/", "/a/b/"]
    assert page_url("a/b.md", False) == "/a/b.html"
    found: dict = {}
    walk_nav([{"Home": "index.md"}, {"Guide": [{"One": "g/one.md"}, {"Deeper": [{"Two": "g/two.md"}]}]},
              {"Out": "https://x.example/"}, "loose.md"], found)
    assert found == {"index.md": ("general", "General", "Home"), "g/one.md": ("guide", "Guide", "One"),
                     "g/two.md": ("guide", "Guide", "Two"), "loose.md": ("general", "General", "")}


def test_read_site_uses_docs_dir_nav_titles_and_redirect_maps():
    site = read_site(SITE)
    pages = {p.source: p for p in site.pages}
    install = pages["documentation/start/install.md"]
    assert (install.title, install.category, install.description) == ("Install", "getting-started",
                                                                      "Install the widget service")
    assert install.aliases == ["/old-install/"]
    assert pages["documentation/ref/faq.md"].category == "reference"  # a section nested in Reference
    assert pages["documentation/extra/уход.md"].title == "Уход за виджетом"
    assert Notice("mkdocs.yml", 1, "redirect from 'gone.md' to 'https://elsewhere.example.com/': not a page of "
                                   "the site, not kept") in site.notices


def test_import_writes_what_the_site_had(imported):
    articles, summary = imported
    install = (articles / "getting-started/start-install.md").read_text(encoding="utf-8")
    assert "aliases:\n- /kb/start/install\n- /kb/old-install\n" in install
    assert "> **Before you start**\n>\n> Back up the database.\n" in install
    assert "[token reference](../reference/api.md#tokens)" in install
    assert "![logo](../assets/img/logo.png)" in install
    assert "# Install the widget service" not in install
    assert "questions:\n- Is there a rate limit?\n" in (articles / "reference/faq.md").read_text(encoding="utf-8")
    assert (articles / "extra/ukhod.md").is_file() and (articles / "extra/install.md").is_file()
    notices = {(n["path"], n["line"]) for n in summary["notices"]}
    assert {("documentation/start/configure.md", 6), ("documentation/start/configure.md", 8),
            ("documentation/ref/api.md", 5)} <= notices
    assert (summary["imported"], summary["links_broken"], summary["assets_copied"]) == (7, 1, 1)
    assert import_site("mkdocs", articles)["unchanged"] == 7


def test_end_to_end_search_redirect_and_image(tmp_path: Path, migrated_sqlite: Path, minilm):
    client, _ = imported_portal("mkdocs", tmp_path, migrated_sqlite, minilm)
    assert b'href="/articles/start-install' in client.get("/search?q=installer package fresh server").data
    moved = client.get("/kb/old-install/")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/articles/start-install")
    page = client.get("/articles/home").get_data(as_text=True)
    src = re.search(r'<img[^>]*src="([^"]+)"', page).group(1)
    assert client.get(src).mimetype == "image/png"


def test_a_bad_configuration_or_an_empty_site_is_one_clear_error(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    code, output = kb("import", "mkdocs", str(site), "--articles", str(tmp_path / "articles"))
    assert (code, output.strip().splitlines()[-1]) == (1, f"Error: {site}: no pages found; is it a mkdocs site? "
                                                          "(see README, \"Moving from Jekyll, Hugo or MkDocs\")")
    (site / "mkdocs.yml").write_text("site_name: x\nnav: [\n", encoding="utf-8")
    code, output = kb("import", "mkdocs", str(site), "--articles", str(tmp_path / "articles"))
    assert code == 1 and f"Error: {site / 'mkdocs.yml'}:3: cannot read the site's configuration" in output
    assert not (tmp_path / "articles").exists()


@pytest.mark.parametrize("structure", ["suffix", "folder"])
def test_the_i18n_plugins_language_versions_become_translations(tmp_path: Path, structure: str):
    site = tmp_path / "site"
    config = ("site_name: Help\nnav:\n  - Home: index.md\n  - Setup:\n      - Install: setup/install.md\n"
              f"plugins:\n  - i18n:\n      docs_structure: {structure}\n      languages:\n"
              "        - locale: en\n          default: true\n        - locale: ru\n")
    pages = {"index": ("Welcome", "Добро пожаловать"), "setup/install": ("Install it", "Установка")}
    for doc, (english, russian) in pages.items():
        for locale, title in (("en", english), ("ru", russian)):
            name = f"{locale}/{doc}.md" if structure == "folder" else f"{doc}{'.ru' if locale == 'ru' else ''}.md"
            path = site / "docs" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"# {title}\n\nText.\n", encoding="utf-8")
    (site / "mkdocs.yml").write_text(config, encoding="utf-8")
    articles = tmp_path / "articles"
    code, output = kb("import", "mkdocs", str(site), "--articles", str(articles), "--json")
    assert code == 0, output
    assert sorted(p.relative_to(articles).as_posix() for p in articles.rglob("*.md")) == [
        "general/home.md", "general/home.ru.md", "setup/install.md", "setup/install.ru.md"]
    russian = (articles / "setup/install.ru.md").read_text(encoding="utf-8")
    assert "id: install\n" in russian and "lang: ru\n" in russian and "title: Установка\n" in russian
    assert "aliases:\n- /ru/setup/install\n" in russian  # its old address
    assert "aliases:\n- /setup/install\n" in (articles / "setup/install.md").read_text(encoding="utf-8")
    code, output = kb("check", "--articles", str(articles))
    assert code == 0, output
