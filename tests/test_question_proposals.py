"""New `questions` proposed from what worked (`kb suggest-questions`) on a seeded SQLite database: phrasings of
deflections and of resolved tickets an agent answered with an article's link, counted, without the article's own
questions, within the limits; the printed patch applies with `patch` and reads back as the old questions plus the
new ones, and nothing is changed until it is applied."""
from __future__ import annotations

import shutil
import subprocess
import textwrap
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.check import load_help_center
from kb.cli import cli
from kb.config import Settings
from kb.drafts import add_questions, propose_questions
from kb.helpdesk.accounts import add_organisation, add_staff, add_user
from kb.helpdesk.db import open_database
from kb.helpdesk.models import AGENT, RESOLVED, Deflection
from kb.helpdesk.tickets import add_reply, create_ticket, record_links, set_status

OLD, NEW = datetime(2025, 1, 5), datetime(2026, 3, 2)


@pytest.fixture
def seeded(database_url: str, tmp_path: Path, center: Path, monkeypatch) -> str:
    """Deflections and tickets over the small help center, on SQLite and PostgreSQL; the working folder is the
    center's parent, so articles load with the relative paths a patch names (articles/...)."""
    monkeypatch.chdir(tmp_path)
    url = database_url
    _, sessions = open_database(url)
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        ann = add_user(db, "ann@acme.example", "password-ann", "Acme")
        ed = add_staff(db, "ed@desk.example", "password-ed")
        db.add_all([Deflection(article_id="printer-offline", query=query, visitor="v:1", created_at=NEW)
                    for query in ("printer is offline", "Printer  is OFFLINE.", "My printer says offline",
                                  "printer shows offline", "printer offline ask ann@acme.example")])
        db.add_all([Deflection(article_id="reset-password", query="cannot sign in", visitor="v:2", created_at=NEW),
                    Deflection(article_id="reset-password", query="Forgot password", visitor="v:2", created_at=NEW),
                    Deflection(article_id="reset-password", query="old phrasing", visitor="v:3", created_at=OLD),
                    Deflection(article_id="reset-password", query="", visitor="v:3", created_at=NEW),
                    Deflection(article_id="deleted-article", query="printer is offline", visitor="v:4",
                               created_at=NEW)])

        def ticket(subject: str, linked: list[str], resolved: bool, query: str = "") -> None:
            filed = create_ticket(db, ann, subject, "Details.", "printers", deflection={"query": query})
            reply = add_reply(db, filed, ed, "See the article.", author_kind=AGENT)
            record_links(db, filed, reply, linked, ed)
            again = add_reply(db, filed, ed, "Again: see the article.", author_kind=AGENT)
            record_links(db, filed, again, linked, ed)  # a second link in the same ticket counts once
            if resolved:
                set_status(db, filed, RESOLVED, ed)

        ticket("Printer is offline", ["printer-offline"], resolved=True, query="printer offline again")
        ticket("Locked out of my account", ["reset-password"], resolved=False)
        ticket("впн не работает", ["vpn-oshibka"], resolved=True)
    return url


def proposals(url: str, **options) -> dict[str, list[tuple[str, int]]]:
    settings = Settings(articles_dir=Path("articles"))
    center = load_help_center(settings.articles_dir, settings)
    _, sessions = open_database(url)
    with sessions() as db:
        found = propose_questions(db, center.articles, settings.default_lang, **options)
    return {p.article_id: p.questions for p in found.proposals}


def test_phrasings_that_worked_are_counted_and_existing_questions_left_out(seeded):
    assert proposals(seeded) == {
        # 2 deflections and the resolved ticket's subject; its searched query once; 'My printer says offline'
        # is already a question, 'printer shows offline' the title, and an e-mail address never becomes one.
        "printer-offline": [("printer is offline", 3), ("printer offline again", 1)],
        # 'Forgot password' is a question already; 'locked out' was never resolved; '' is no phrasing.
        "reset-password": [("cannot sign in", 1), ("old phrasing", 1)],
        "vpn-oshibka": [("впн не работает", 1)],
    }


def test_since_min_count_and_max_per_article(seeded):
    assert proposals(seeded, since=datetime(2026, 1, 1))["reset-password"] == [("cannot sign in", 1)]
    assert proposals(seeded, min_count=2) == {"printer-offline": [("printer is offline", 3)]}
    assert {k: len(v) for k, v in proposals(seeded, max_per_article=1).items()} == {
        "printer-offline": 1, "reset-password": 1, "vpn-oshibka": 1}


def test_the_patch_applies_and_reads_back_and_nothing_is_changed_before(seeded, tmp_path: Path):
    before = {p: p.read_bytes() for p in Path("articles").rglob("*.md")}
    result = CliRunner().invoke(cli, ["suggest-questions", "--articles-dir", "articles", "--database", seeded])
    assert result.exit_code == 0, result.output
    diff = result.stdout
    assert diff.startswith("--- a/articles/") and diff.count("\n+++ b/articles/") == 3
    assert {p: p.read_bytes() for p in Path("articles").rglob("*.md")} == before  # printed, never applied
    copy = tmp_path / "copy"
    shutil.copytree("articles", copy / "articles")
    applied = subprocess.run(["patch", "-p1", "--forward", "--batch"], cwd=copy, input=diff, text=True,
                             capture_output=True)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    settings = Settings(articles_dir=copy / "articles")
    patched = {a.id: a for a in load_help_center(settings.articles_dir, settings).articles}
    assert patched["printer-offline"].questions == ("my printer says offline", "printer not printing",
                                                    "printer is offline", "printer offline again")
    assert patched["vpn-oshibka"].questions == ("не работает впн", "ошибка подключения vpn", "впн не работает")
    assert load_help_center(settings.articles_dir, settings).errors == []
    again = CliRunner().invoke(cli, ["suggest-questions", "--articles", str(copy / "articles"), "--database", seeded])
    assert again.exit_code == 0 and again.stdout == "" and "no proposals" in again.output


FRONTS = {
    "flow list": "questions: [my printer says offline, 'printer: not printing']\n",
    "block list": "questions:\n    - my printer says offline   # the first\n    - \"printer: not printing\"\n",
    "one text": "questions: my printer says offline\n",
    "no questions": "",
    "empty": "questions:\n",
}


@pytest.mark.parametrize("kind", FRONTS)
def test_questions_are_added_whatever_the_front_matter_looks_like(kind: str, tmp_path: Path):
    text = ("---\ntitle: Printer offline\n" + FRONTS[kind] + "tags: [printer]  # kept\ncategory: printers\n"
            "---\nBody.\n")
    new = add_questions(text, ["Принтер: не печатает", "printer #2 offline"])
    assert new is not None
    old_lines = [line for line in text.splitlines() if not line.lstrip().startswith(("questions", "-"))]
    assert [line for line in new.splitlines() if not line.lstrip().startswith(("questions", "-"))] == old_lines
    path = tmp_path / "articles" / "a.md"
    path.parent.mkdir()
    path.write_text(new, encoding="utf-8")
    (tmp_path / "articles" / "categories.yml").write_text("printers: {title: Printers}\n", encoding="utf-8")
    settings = Settings(articles_dir=path.parent)
    article = load_help_center(path.parent, settings).articles[0]
    old = {"flow list": ["my printer says offline", "printer: not printing"],
           "block list": ["my printer says offline", "printer: not printing"],
           "one text": ["my printer says offline"]}.get(kind, [])
    assert list(article.questions) == [*old, "Принтер: не печатает", "printer #2 offline"]
    assert article.tags == ("printer",) and article.body == "Body.\n"


def test_a_front_matter_that_cannot_be_patched_safely_is_left_alone():
    assert add_questions("no front matter\n", ["x"]) is None
    assert add_questions("---\n- a list\n---\nBody.\n", ["x"]) is None
    assert add_questions(textwrap.dedent("""\
        ---
        title: T
        questions: {a: mapping}
        ---
        Body.
        """), ["x"]) is None
