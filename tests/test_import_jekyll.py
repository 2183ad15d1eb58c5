"""`kb import jekyll`: the fixture site in tests/import_fixtures/jekyll, unit by unit and end to end."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from kb.importers.jekyll import Liquid, read_site
from kb.importers.records import Notice
from kb.importers.writer import write_site
from tests.importing import FIXTURES, import_site, imported_portal, kb

SITE = FIXTURES / "jekyll"


def article(articles: Path, rel: str) -> str:
    return (articles / rel).read_text(encoding="utf-8")


@pytest.fixture
def imported(tmp_path: Path) -> tuple[Path, dict]:
    articles = tmp_path / "articles"
    return articles, import_site("jekyll", articles)


def test_liquid_is_resolved_or_reported_with_its_line(tmp_path: Path):
    (tmp_path / "_includes").mkdir()
    (tmp_path / "_includes" / "tip.md").write_text("A tip.\n", encoding="utf-8")
    notices: list[Notice] = []
    body = ("{{ site.baseurl }}/img/a.png\n{% raw %}{{ kept }}{% endraw %}\n{% include tip.md %}\n"
            "{% link _guides/a.md %} {% post_url 2019-01-01-x %}\n{% highlight ruby %}\nputs 1\n{% endhighlight %}\n"
            "{% for x in y %}\n{{ page.title }}\n{% include gone.html %}\n")
    out = Liquid(tmp_path, "_posts/p.md", 5, notices).convert(body)
    assert out.splitlines()[:4] == ["/img/a.png", "{{ kept }}", "A tip.", "/_guides/a.md /_posts/2019-01-01-x"]
    assert "```ruby\nputs 1\n```" in out
    assert "{% for x in y %}" in out  # not dropped: kept as written, and reported
    assert [n.line for n in notices] == [12, 13, 14]
    assert ["{% for %}" in notices[0].message, "{{ page.title }}" in notices[1].message,
            "include 'gone.html' not found" in notices[2].message] == [True, True, True]


def test_read_site_finds_posts_collections_and_pages_and_skips_the_rest():
    site = read_site(SITE)
    sources = {p.source: p for p in site.pages}
    assert set(sources) == {"_posts/2019-03-05-reset-password.md", "_posts/2020-01-10-billing.md",
                            "_posts/2020-02-01-new-plans.md", "_guides/setup/install.md", "_guides/admin/install.md",
                            "_guides/windows-1251.md", "_guides/Сброс-пароля.md", "docs/faq.md",
                            "_drafts/vpn-setup.md"}
    assert ("README.md", "README") in site.skipped
    post = sources["_posts/2019-03-05-reset-password.md"]
    assert (post.url, post.category, post.tags) == ("/accounts/2019/03/05/reset-password.html", "accounts",
                                                    ["password", "login"])
    assert sources["_guides/setup/install.md"].url == "/guides/setup/install/"
    assert site.categories["guides"]["title"] == "User guides"
    assert sources["_posts/2020-02-01-new-plans.md"].draft


def test_import_writes_articles_that_keep_what_the_site_had(imported):
    articles, summary = imported
    assert (summary["imported"], summary["skipped"][0]["path"]) == (9, "README.md")
    reset = article(articles, "accounts/reset-password.md")
    assert "aliases:\n- /help/accounts/2019/03/05/reset-password.html\n- /help/old-reset\n" in reset
    assert "tags:\n- password\n- login\n" in reset
    assert "[the install guide](../guides/setup-install.md#requirements)" in reset  # {% link %} and its anchor
    assert "[billing](../billing/billing.md)" in reset  # {% post_url %}
    billing = article(articles, "billing/billing.md")
    assert ('The <a href="../accounts/reset-password.md#steps" title="Steps">reset steps</a> and <a>an old note</a>'
            in billing)  # raw HTML links are rewritten too; one to a missing page keeps its text
    assert "![The reset screen](../assets/img/reset.png)" in reset
    assert "[manual](../assets/files/manual.pdf)" in reset
    assert (articles / "assets/img/reset.png").read_bytes() == (SITE / "assets/img/reset.png").read_bytes()
    assert (articles / "assets/guides/setup/installer.png").is_file()  # a relative image beside its page
    assert "status: draft" in article(articles, "billing/new-plans.md")
    assert "status: draft" in article(articles, "accounts/vpn-setup.md")  # from _drafts/
    assert "{{ customer.name }}" in article(articles, "billing/billing.md")


def test_duplicate_slugs_cyrillic_names_and_other_encodings(imported):
    articles, summary = imported
    server, desktop = article(articles, "guides/install.md"), article(articles, "guides/setup-install.md")
    assert "id: install\n" in server and "id: setup-install\n" in desktop
    assert "[the desktop install](setup-install.md)" in server
    assert "lang: ru" in article(articles, "guides/sbros-parolya.ru.md")
    assert "Этот файл сохранён в кодировке Windows-1251" in article(articles, "guides/windows-1251.md")
    assert {"path": "_guides/windows-1251.md", "line": 2,
            "message": "not UTF-8: read as cp1251 (check the converted text)"} in summary["notices"]


def test_faq_questions_broken_links_and_unsupported_liquid_are_reported(imported):
    articles, summary = imported
    faq = article(articles, "docs/faq.md")
    assert "questions:\n- How do I change my e-mail address?\n- Can I delete my account?\n" in faq
    assert "See also the old page and [plans](/pricing/)." in faq  # a missing .md keeps its text only
    assert summary["links_broken"] == 3 and summary["links_rewritten"] == 6 and summary["assets_copied"] == 3
    where = {(n["path"], n["line"]) for n in summary["notices"]}
    assert {("docs/faq.md", 10), ("_posts/2020-01-10-billing.md", 11), ("_posts/2020-01-10-billing.md", 15)} <= where


def test_running_again_updates_instead_of_duplicating(imported):
    articles, _ = imported
    again = import_site("jekyll", articles)
    assert (again["imported"], again["updated"], again["unchanged"], again["assets_copied"]) == (0, 0, 9, 0)
    reset = articles / "accounts/reset-password.md"
    reset.write_text(reset.read_text(encoding="utf-8").replace("two hours", "one hour"), encoding="utf-8")
    third = import_site("jekyll", articles)
    assert third["files"]["updated"] == ["accounts/reset-password.md"] and third["imported"] == 0
    assert len(list(articles.rglob("*.md"))) == 9


def test_dry_run_writes_nothing(tmp_path: Path):
    summary = import_site("jekyll", tmp_path / "articles", "--dry-run")
    assert summary["imported"] == 9 and summary["dry_run"]
    assert not (tmp_path / "articles").exists()


def test_existing_categories_and_articles_are_kept(tmp_path: Path):
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "categories.yml").write_text("billing:\n  title: Money matters\n", encoding="utf-8")
    (articles / "billing.md").write_text("---\ntitle: Ours\ncategory: billing\n---\nOur own.\n", encoding="utf-8")
    summary = write_site(read_site(SITE), articles)
    assert "billing:\n  title: Money matters\n" in (articles / "categories.yml").read_text(encoding="utf-8")
    assert "billing" not in summary.categories_added
    assert "id: posts-billing\n" in article(articles, "billing/posts-billing.md")  # its slug was taken: ours
    code, output = kb("check", "--articles", str(articles))
    assert code == 0, output


def test_human_summary(tmp_path: Path):
    code, output = kb("import", "jekyll", str(SITE), "--articles", str(tmp_path / "a"))
    assert code == 0
    assert output.splitlines()[-1].startswith("imported 9 new, 0 updated, 0 unchanged, 2 skipped; 6 link(s) "
                                              "rewritten, 3 broken; 3 file(s) copied")
    assert "docs/faq.md:10: link to 'missing.md': no such page in the source; only its text is kept" in output


def test_end_to_end_search_redirect_and_image(tmp_path: Path, migrated_sqlite: Path, minilm):
    client, _ = imported_portal("jekyll", tmp_path, migrated_sqlite, minilm)
    found = client.get("/search?q=reset link expires after two hours")
    assert b'href="/articles/reset-password' in found.data
    moved = client.get("/help/old-reset/")
    assert (moved.status_code, moved.headers["Location"]) == (301, "/articles/reset-password")
    assert client.get("/help/accounts/2019/03/05/reset-password.html").status_code == 301
    assert client.get("/help/billing/2020/02/01/new-plans.html").status_code == 404  # a draft is not published
    page = client.get("/articles/reset-password").get_data(as_text=True)
    image = re.search(r'<img[^>]*>', page).group(0)
    assert 'alt="The reset screen"' in image and 'loading="lazy"' in image
    src = re.search(r'src="([^"]+)"', image).group(1)
    assert src == "/files/assets/img/reset.png"
    served = client.get(src)
    assert (served.status_code, served.mimetype) == (200, "image/png")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.data == (SITE / "assets/img/reset.png").read_bytes()
    billing = client.get("/articles/billing").get_data(as_text=True)
    assert re.search(r'<a href="/articles/reset-password#steps"[^>]*>reset steps</a>', billing)
    pdf = client.get("/files/assets/files/manual.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Disposition"].startswith("attachment")
    for path in ("/files/categories.yml", "/files/accounts/reset-password.md", "/files/../kb.sqlite3",
                 "/files/assets/nothing.png"):
        assert client.get(path).status_code == 404, path


def test_pages_naming_one_translation_key_become_language_versions(tmp_path: Path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "_config.yml").write_text("title: Help\n", encoding="utf-8")
    pages = {"connect-vpn.md": "lang: en\nref: vpn\ntitle: Connect to the VPN",
             "podklyuchenie-vpn.md": "lang: ru\nref: vpn\ntitle: Подключение к VPN",
             "printer-a.md": "lang: en\nref: printer\ntitle: Printer A",
             "printer-b.md": "lang: en\nref: printer\ntitle: Printer B"}
    for name, front in pages.items():
        (site / name).write_text(f"---\n{front}\n---\nText of {name}.\n", encoding="utf-8")
    articles = tmp_path / "articles"
    code, output = kb("import", "jekyll", str(site), "--articles", str(articles))
    assert code == 0, output
    assert sorted(p.relative_to(articles).as_posix() for p in articles.rglob("*.md")) == [
        "general/connect-vpn.md", "general/connect-vpn.ru.md", "general/printer-a.md", "general/printer-b.md"]
    russian = (articles / "general/connect-vpn.ru.md").read_text(encoding="utf-8")
    assert "id: connect-vpn\n" in russian and "lang: ru\n" in russian and "Подключение к VPN" in russian
    assert ("printer-a.md:1: 'printer' names pages of the same language (printer-a.md, printer-b.md): "
            "imported apart") in output
    code, output = kb("check", "--articles", str(articles))
    assert code == 0, output
    code, output = kb("import", "jekyll", str(site), "--articles", str(articles))
    assert code == 0 and "0 new, 0 updated, 4 unchanged" in output, output  # ids stay
