"""Drafts from tickets (`kb draft-from-ticket`) on a seeded SQLite database: the draft's front matter and body, names
that never overwrite, `kb check` passing on it, Russian and Ukrainian tickets; a draft that would fail the check is
refused and removed."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from sqlalchemy import select

from kb.articles import split_front_matter
from kb.check import load_help_center
from kb.cli import cli
from kb.config import Settings
from kb.drafts import clean_phrasing, draft_from_ticket, first_sentence, fold, letters_language
from kb.errors import KbError
from kb.helpdesk.accounts import add_organisation, add_staff, add_user
from kb.helpdesk.db import open_database
from kb.helpdesk.models import AGENT, User
from kb.helpdesk.tickets import add_reply, create_ticket, find_ticket


def add_ticket(url: str, subject: str, description: str, *, category: str = "", predicted: str = "",
               query: str = "", replies: tuple[str, ...] = (), customer_reply: str = "") -> str:
    """A ticket filed by ann (created on first use with the agent ed), with ed's replies; returns its ref."""
    _, sessions = open_database(url)
    with sessions.begin() as db:
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        if ann is None:
            add_organisation(db, "Acme")
            ann = add_user(db, "ann@acme.example", "password-ann", "Acme")
            add_staff(db, "ed@desk.example", "password-ed")
        ed = db.scalar(select(User).where(User.email == "ed@desk.example"))
        ticket = create_ticket(db, ann, subject, description, category, deflection={"query": query} if query else {},
                               predicted=predicted)
        for body in replies:
            add_reply(db, ticket, ed, body, author_kind=AGENT)
        if customer_reply:
            add_reply(db, ticket, ann, customer_reply)
        return ticket.ref


@pytest.fixture
def url(database_url: str) -> str:
    return database_url


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def front_and_body(path: Path) -> tuple[dict, str]:
    front, body, _ = split_front_matter(path.read_text(encoding="utf-8"))
    return yaml.safe_load(front), body


def test_the_draft_carries_the_customers_phrasings_and_the_agents_reply(center: Path, url: str):
    ref = add_ticket(url, "Printer  offline again!", "The office printer shows Offline. I restarted it twice.\n"
                     "Nothing helps.", category="printers", query="printer offline windows",
                     replies=("Open Settings > Printers and choose 'Use printer online'.",),
                     customer_reply="Thanks, that worked")
    result = run("draft-from-ticket", ref, "--articles-dir", str(center), "--database", url)
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().splitlines()[-1])
    assert path == center / "printers" / "printer-offline-again.md"
    front, body = front_and_body(path)
    assert front["title"] == "Printer offline again" and front["category"] == "printers"
    assert front["status"] == "draft" and "lang" not in front
    assert front["questions"] == ["Printer offline again", "printer offline windows", "The office printer shows Offline"]
    assert front["description"].startswith("TODO")
    problem, steps = body.split("## Problem", 1)[1].split("## Steps", 1)
    assert "> The office printer shows Offline. I restarted it twice.\n> Nothing helps." in problem
    assert "Open Settings > Printers and choose 'Use printer online'." in steps
    assert "Thanks, that worked" not in body  # the customer's own replies are not steps
    assert ref in body.split("-->", 1)[0]
    assert "questions:\n  - Printer offline again\n" in path.read_text(encoding="utf-8")  # as articles are written
    check = run("check", "--strict", "--articles", str(center))
    assert check.exit_code == 0 and "0 error(s), 0 warning(s)" in check.output, check.output
    checked = load_help_center(center, Settings(), strict=True)
    draft = next(a for a in checked.articles if a.id == "printer-offline-again")
    assert draft.status == "draft" and draft not in checked.published()


def test_a_draft_never_overwrites_a_file_or_reuses_an_id(center: Path, url: str):
    ref = add_ticket(url, "Printer offline", "It says offline since Monday.", category="printers")
    existing = center / "printers" / "printer-offline.md"
    before = existing.read_text(encoding="utf-8")
    first = run("draft-from-ticket", ref, "--articles", str(center), "--database", url)
    second = run("draft-from-ticket", ref, "--articles", str(center), "--database", url)
    assert first.exit_code == second.exit_code == 0, first.output + second.output
    paths = [Path(r.output.strip().splitlines()[-1]) for r in (first, second)]
    assert [p.name for p in paths] == ["printer-offline-2.md", "printer-offline-3.md"]
    assert existing.read_text(encoding="utf-8") == before
    assert load_help_center(center, Settings()).errors == []


def test_a_file_that_is_no_article_is_not_overwritten_either(center: Path, url: str):
    ref = add_ticket(url, "Scanner jams", "The scanner jams.", category="printers")
    broken = center / "printers" / "scanner-jams.md"
    broken.write_text("---\ntitle: [unclosed\n---\nBody.\n", encoding="utf-8")  # no article: bad YAML
    result = run("draft-from-ticket", ref, "--articles-dir", str(center), "--database", url)
    assert result.exit_code == 0, result.output
    assert Path(result.output.strip()).name == "scanner-jams-2.md"
    assert broken.read_text(encoding="utf-8") == "---\ntitle: [unclosed\n---\nBody.\n"


def test_a_russian_ticket_gives_a_russian_draft_and_an_undeclared_category_a_note(center: Path, url: str):
    ref = add_ticket(url, "Не подключается VPN, выдаёт ошибку", "Ошибка 809 при подключении из дома. Что делать?",
                     predicted="network", replies=("Перезапустите клиент VPN.",))
    result = CliRunner().invoke(cli, ["draft-from-ticket", ref.lower(), "--articles-dir", str(center),
                                      "--database", url])
    assert result.exit_code == 0, result.output
    assert "note: category: the ticket's category 'network' is not declared" in result.output
    path = Path(result.output.strip().splitlines()[-1])
    assert path == center / "ru" / "ne-podklyuchaetsya-vpn-vydaet-oshibku-ru.md"
    text = path.read_text(encoding="utf-8")
    assert "title: Не подключается VPN, выдаёт ошибку" in text  # written as UTF-8, not as \u escapes
    front, body = front_and_body(path)
    assert front["lang"] == "ru" and front["category"] == "printers"  # the first declared category
    assert front["questions"] == ["Не подключается VPN, выдаёт ошибку", "Ошибка 809 при подключении из дома"]
    assert "'network' is not declared" in body.split("-->", 1)[0]
    assert "Перезапустите клиент VPN." in body.split("## Steps", 1)[1]
    assert load_help_center(center, Settings(), strict=True).problems == []


def test_a_ukrainian_ticket_and_the_lang_option(center: Path, url: str):
    ref = add_ticket(url, "Принтер не друкує", "Принтер не друкує з ранку.", category="printers")
    result = run("draft-from-ticket", ref, "--articles-dir", str(center), "--database", url)
    assert result.exit_code == 0, result.output
    assert front_and_body(Path(result.output.strip()))[0]["lang"] == "uk"
    chosen = run("draft-from-ticket", ref, "--lang", "en", "--articles-dir", str(center), "--database", url)
    path = Path(chosen.output.strip())
    assert path == center / "printers" / "printer-ne-drukuye.md" and "lang" not in front_and_body(path)[0]


def test_cyrillic_that_tells_no_language_is_noted_and_a_bad_lang_refused(center: Path, url: str):
    ref = add_ticket(url, "Принтер", "Принтер не печата.", category="printers")
    result = run("draft-from-ticket", ref, "--articles-dir", str(center), "--database", url)
    assert result.exit_code == 0 and "note: lang: the ticket is written in Cyrillic letters" in result.output
    before = sorted(center.rglob("*"))
    refused = run("draft-from-ticket", ref, "--lang", "русский", "--articles-dir", str(center), "--database", url)
    assert refused.exit_code == 1 and "lang 'русский'" in refused.output and "Traceback" not in refused.output
    assert sorted(center.rglob("*")) == before


def test_an_unknown_ticket_is_a_clear_error(center: Path, url: str):
    add_ticket(url, "Printer offline", "It says offline.")
    before = sorted(center.rglob("*"))
    result = run("draft-from-ticket", "kb-nope1234", "--articles-dir", str(center), "--database", url)
    assert result.exit_code == 1 and "no ticket 'KB-NOPE1234'" in result.output
    assert "Traceback" not in result.output
    assert sorted(center.rglob("*")) == before


def test_a_draft_that_would_fail_the_check_is_refused_and_removed(center: Path, url: str):
    ref = add_ticket(url, "Scanner jams", "The scanner jams.", category="printers",
                     replies=("See [the old guide](../nowhere/scanner.md).",))
    settings = Settings(articles_dir=center)
    _, sessions = open_database(url)
    with sessions() as db, pytest.raises(KbError, match="link to missing article"):
        draft_from_ticket(find_ticket(db, ref), settings)
    assert not (center / "printers" / "scanner-jams.md").exists()


def test_phrasings_are_cleaned_folded_and_told_apart():
    assert clean_phrasing("  printer\n offline\t again!! ") == "printer offline again"
    assert clean_phrasing("Why is it offline?") == "Why is it offline?"
    assert clean_phrasing("write to ann@acme.example") == "" and clean_phrasing("x " * 100) == ""
    assert fold("Printer  OFFLINE?") == fold("printer offline") == "printer offline"
    assert first_sentence("It broke. Then more.") == "It broke." and first_sentence("One\nTwo") == "One"
    assert [letters_language(t) for t in ("Принтер не друкує", "Выдаёт ошибку", "Принтерът не печата",
                                          "Принтер", "printer")] == ["uk", "ru", "bg", None, None]
