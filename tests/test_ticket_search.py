"""Ticket search on the desk's queue (kb/helpdesk/ticket_search.py): analysed per language, ranked, combined with
the queue's filters, current after every reply, rebuilt by `kb tickets reindex`; on SQLite (FTS5) here, on
PostgreSQL in test_ticket_search_postgres.py."""
from __future__ import annotations


import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, text

from kb.cli import cli
from kb.helpdesk.accounts import add_organisation, add_staff, add_user
from kb.helpdesk.db import open_database
from kb.helpdesk.models import AGENT, IN_PROGRESS, Ticket, User
from kb.helpdesk.queue import QueueFilter, parse_filter, queue
from kb.helpdesk.ticket_search import query_forms, ticket_terms, word_forms
from kb.helpdesk.ticket_search_models import TicketSearch
from kb.helpdesk.tickets import add_reply, change_status, create_ticket


@pytest.fixture
def database(database_url: str):
    url = database_url
    engine, sessions = open_database(url)
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        add_user(db, "ann@acme.example", "password-ann", "Acme")
        add_staff(db, "agent@desk.example", "password-agent", "agent", "general")
    yield url, sessions
    engine.dispose()


def people(db) -> tuple[User, User]:
    return (db.scalar(select(User).where(User.email == "ann@acme.example")),
            db.scalar(select(User).where(User.email == "agent@desk.example")))


def file(db, subject: str, description: str, category: str = "", **kwargs) -> Ticket:
    return create_ticket(db, people(db)[0], subject, description, category, **kwargs)


def refs(db, **chosen) -> list[str]:
    return [t.ref for t in queue(db, QueueFilter(**chosen)).tickets]


def test_every_word_is_stored_in_each_languages_form():
    assert set(word_forms("printers")) == {"printer", "printers"}
    assert set(word_forms("Принтеры")) == {"принтер", "принтеры"}  # Russian stem, and folded as typed
    assert "друкувати" in word_forms("друкує")  # Ukrainian lemma
    assert word_forms("the") == ()  # a stop word is not stored
    assert ticket_terms(["Wi-Fi v2.0 won't"]).split() == ["wi", "fi", "v20", "wont"]  # no punctuation in a term
    assert query_forms("the printer, the printer!") == [("printer",)]


def test_russian_words_match_in_other_forms(database):
    _, sessions = database
    with sessions.begin() as db:
        wanted = file(db, "Принтер не печатает", "Принтеры в офисе не печатают с утра").ref
        file(db, "Не работает почта", "Письма не уходят")
    with sessions() as db:
        assert refs(db, text="принтеры печатать") == [wanted]
        assert refs(db, text="печатал") == [wanted]
        assert refs(db, text="почтой") != [wanted]


def test_more_mentions_rank_higher_and_every_word_must_match(database):
    _, sessions = database
    with sessions.begin() as db:
        once = file(db, "Scanner jam", "The printer next to it is fine, the scanner jams").ref
        often = file(db, "Printer offline", "My printer says offline; restarting the printer did not help").ref
        file(db, "VPN down", "Cannot connect since Monday")
    with sessions() as db:
        assert refs(db, text="printer") == [often, once]
        assert refs(db, text="printer jams") == [once]  # both words
        assert refs(db, text="printer vpn") == []
        found = queue(db, QueueFilter(text="printer"))
        assert found.total == 2 and sum(found.counts.values()) == 2


def test_replies_of_both_sides_are_found_as_soon_as_they_are_written(database):
    _, sessions = database
    with sessions.begin() as db:
        ticket = file(db, "Cannot print", "Nothing comes out")
        ann, agent = people(db)
        add_reply(db, ticket, agent, "Please replace the toner cartridge", author_kind=AGENT)
        ref = ticket.ref
    with sessions() as db:
        assert refs(db, text="toner") == [ref]
        assert refs(db, text="firmware") == []
    with sessions.begin() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.ref == ref))
        add_reply(db, ticket, people(db)[0], "Replaced it, now the firmware warns")
    with sessions() as db:
        assert refs(db, text="firmware warning") == [ref]  # (the FTS table followed the row's update)
        assert refs(db, text="cartridges") == [ref]


def test_search_combines_with_the_filters(database):
    _, sessions = database
    with sessions.begin() as db:
        printers = file(db, "Printer offline", "offline since Monday", "printers")
        other = file(db, "Laptop offline", "offline after the update", "laptops")
        change_status(db, other, IN_PROGRESS, people(db)[1])
        printers_ref, other_ref = printers.ref, other.ref
    with sessions() as db:
        assert set(refs(db, text="offline")) == {printers_ref, other_ref}
        assert refs(db, text="offline", category="printers") == [printers_ref]
        assert refs(db, text="offline", status=IN_PROGRESS) == [other_ref]
        assert refs(db, text="offline", status=IN_PROGRESS, category="printers") == []
        found = queue(db, QueueFilter(text="offline", status=IN_PROGRESS))
        assert found.counts["submitted"] == 1 and found.counts[IN_PROGRESS] == 1 and found.total == 1


def test_a_text_of_stop_words_or_punctuation_filters_nothing(database):
    _, sessions = database
    with sessions.begin() as db:
        file(db, "Printer offline", "offline")
    with sessions() as db:
        assert len(refs(db, text="the ... !")) == 1
        assert len(refs(db, text='"printer* OR (offline')) == 1  # FTS5's query syntax is never passed through
        assert refs(db, text="printer NEAR") == []


def test_the_filter_reads_the_search_text_from_q():
    chosen = parse_filter({"q": "  printer   offline ", "status": "resolved"})
    assert chosen.text == "printer offline" and chosen.query_args()["q"] == "printer offline"
    assert len(parse_filter({"q": "x" * 5000}).text) == 200


def test_the_fixed_subject_is_stored_and_searched(database):
    _, sessions = database
    with sessions.begin() as db:
        fixed = file(db, "ghbynth yt gtxfnftn", "cxtnf", subject_fixed="принтер не печатает")
        same = file(db, "Printer", "offline", subject_fixed="Printer")
        fixed_ref, same_ref = fixed.ref, same.ref
    with sessions() as db:
        assert db.scalar(select(Ticket.subject_fixed).where(Ticket.ref == fixed_ref)) == "принтер не печатает"
        assert db.scalar(select(Ticket.subject_fixed).where(Ticket.ref == same_ref)) == ""  # no fix: none stored
        assert refs(db, text="принтеры") == [fixed_ref]
        assert refs(db, text="ghbynth") == [fixed_ref]  # as typed, too


def test_reindex_rebuilds_the_search_from_the_tickets(database):
    url, sessions = database
    with sessions.begin() as db:
        ref = file(db, "Printer offline", "since Monday").ref
        add_reply(db, db.scalar(select(Ticket).where(Ticket.ref == ref)), people(db)[1], "toner", author_kind=AGENT)
        db.execute(delete(TicketSearch))  # as after an upgrade from a version without ticket search
    with sessions() as db:
        assert refs(db, text="toner") == []
    result = CliRunner().invoke(cli, ["tickets", "reindex", "--database", url])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "1 ticket indexed for search"
    with sessions() as db:
        assert refs(db, text="toner") == [ref] and refs(db, text="monday") == [ref]
        full_text = ("SELECT count(*) FROM ticket_search_fts WHERE ticket_search_fts MATCH 'toner'"
                     if url.startswith("sqlite") else  # FTS5's table; PostgreSQL's generated tsvector column
                     "SELECT count(*) FROM ticket_search WHERE terms_vector @@ to_tsquery('simple', 'toner')")
        assert db.scalar(text(full_text)) == 1


def test_reindex_of_a_bad_database_url_is_a_clear_error():
    result = CliRunner().invoke(cli, ["tickets", "reindex", "--database", "not a url"])
    assert result.exit_code == 1 and "is not a database URL" in result.output
