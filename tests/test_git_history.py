"""Article history read from git, on a temporary repository."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.git_history import histories, uncommitted
from kb.config import Settings
from kb.helpdesk.accounts import add_staff
from tests.portal import PASSWORD, add_people, sign_in


def git(repo: Path, *args: str, author: str = "Ada Editor <ada@example.com>", date: str | None = None) -> None:
    name, email = author[:-1].split(" <")
    env = {**os.environ, "GIT_AUTHOR_NAME": name, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": name,
           "GIT_COMMITTER_EMAIL": email, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, env=env)


@pytest.fixture
def repo(tmp_path: Path, center: Path) -> Path:
    """The small help center committed in three commits by two authors; the repository root is above it."""
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "First articles", date="2026-01-05T10:00:00+00:00")
    printer = center / "printers" / "printer-offline.md"
    printer.write_text(printer.read_text(encoding="utf-8") + "\nAlso check the cable.\n", encoding="utf-8")
    git(tmp_path, "commit", "-q", "-am", "Printer: cable check", author="Bo Writer <bo@example.com>",
        date="2026-02-10T09:30:00+02:00")
    printer.write_text(printer.read_text(encoding="utf-8") + "\nAnd the power.\n", encoding="utf-8")
    git(tmp_path, "commit", "-q", "-am", "Printer: power", date="2026-03-01T08:00:00+00:00")
    return tmp_path


def test_histories_list_commits_per_file_newest_first(repo: Path, center: Path):
    printer = center / "printers" / "printer-offline.md"
    password = center / "accounts" / "reset-password.md"
    found = histories(center, [printer, password])
    assert [c.message for c in found[printer.resolve()]] == ["Printer: power", "Printer: cable check", "First articles"]
    assert [c.author for c in found[printer.resolve()]] == ["Ada Editor", "Bo Writer", "Ada Editor"]
    assert [c.message for c in found[password.resolve()]] == ["First articles"]
    assert found[printer.resolve()][1].date == "2026-02-10T09:30:00+02:00"


def test_outside_git_there_is_no_history(tmp_path: Path, center: Path):
    assert histories(center, [center / "printers" / "printer-offline.md"]) == {}
    assert uncommitted(center) == set()


def test_build_records_updated_authors_revisions_and_history(repo: Path, center: Path, settings: Settings, encoder):
    password = center / "accounts" / "reset-password.md"
    password.write_text(password.read_text(encoding="utf-8") + "\nNot committed yet.\n", encoding="utf-8")
    build_index(settings, encoder, progress=False)
    articles = json.loads((settings.index_dir / "articles.json").read_text(encoding="utf-8"))
    printer = articles["printer-offline"]["git"]
    assert printer == {"updated": "2026-03-01T08:00:00+00:00", "authors": ["Ada Editor", "Bo Writer"],
                       "revisions": 3, "uncommitted": False}
    edited = articles["reset-password"]["git"]
    assert edited["uncommitted"] is True and edited["revisions"] == 1 and edited["updated"] > "2026-03-02"
    history = json.loads((settings.index_dir / "history.json").read_text(encoding="utf-8"))
    assert [c["message"] for c in history["printer-offline"]] == ["Printer: power", "Printer: cable check",
                                                                  "First articles"]
    assert all(len(c["commit"]) == 40 for c in history["printer-offline"])


def test_article_page_shows_updated_and_history_page_lists_commits(repo: Path, settings: Settings, encoder, tmp_path):
    from search.service import SearchService
    from web import create_app

    build_index(settings, encoder, progress=False)
    service = SearchService.load(settings.index_dir, settings, encoder)
    app = create_app(settings.replace(database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}",
                                      secret_key="k" * 32), service)
    client = app.test_client()
    page = client.get("/articles/printer-offline").get_data(as_text=True)
    assert "Updated" in page and "2026-03-01T08:00:00Z" in page and "3 revisions" in page
    assert "/articles/printer-offline/history" not in page  # the history is the editors' business
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, "editor@desk.example", PASSWORD, "editor")
    assert sign_in(client, "editor@desk.example").status_code == 302
    assert "/articles/printer-offline/history" in client.get("/articles/printer-offline").get_data(as_text=True)
    history = client.get("/articles/printer-offline/history")
    text = history.get_data(as_text=True)
    assert history.status_code == 200
    assert text.index("Printer: power") < text.index("Printer: cable check") < text.index("First articles")
    assert "Bo Writer" in text and "2026-02-10T07:30:00Z" in text  # the author's +02:00 shown in UTC
    assert client.get("/articles/agent-only/history").status_code == 200  # staff read internal articles too
    assert client.get("/articles/no-such/history").status_code == 404


def test_only_staff_read_the_history(repo: Path, settings: Settings, encoder, tmp_path):
    """Commit messages and authors' names and e-mail addresses stay with the staff: to customers and anonymous
    visitors the history page does not exist, and the article page does not name them."""
    from search.service import SearchService
    from web import create_app

    build_index(settings, encoder, progress=False)
    service = SearchService.load(settings.index_dir, settings, encoder)
    app = create_app(settings.replace(database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}",
                                      secret_key="k" * 32), service)
    add_people(app)
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, "agent@desk.example", PASSWORD, "agent", "general")
    secrets = ("Printer: cable check", "Bo Writer", "bo@example.com", "Ada Editor", "ada@example.com")
    for who in (None, "ann@acme.example", "meg@acme.example"):
        client = app.test_client()
        if who:
            assert sign_in(client, who).status_code == 302
        for path in ("/articles/printer-offline/history", "/articles/agent-only/history"):
            response = client.get(path)
            assert response.status_code == 404, (who, path)
            assert not [s for s in secrets if s in response.get_data(as_text=True)], (who, path)
        page = client.get("/articles/printer-offline").get_data(as_text=True)
        assert "3 revisions" in page and not [s for s in secrets if s in page], who
    agent = app.test_client()
    assert sign_in(agent, "agent@desk.example").status_code == 302
    text = agent.get("/articles/printer-offline/history").get_data(as_text=True)
    assert "Printer: cable check" in text and "Bo Writer" in text
