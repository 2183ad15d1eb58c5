"""Priorities and SLA clocks in the database (kb/helpdesk/ticket_sla.py): set at filing, moved by replies, status
changes and priority changes; the queue's SLA order and filters; the migration; the lead's report."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kb.config import Settings
from kb.errors import TicketError
from kb.helpdesk.accounts import add_organisation, add_staff, add_user
from kb.helpdesk.db import make_engine, open_database, upgrade
from kb.helpdesk.models import EVENT_PRIORITY, Ticket, TicketEvent, User
from kb.helpdesk.queue import QueueFilter, parse_filter, queue
from kb.helpdesk.sla import BREACHED, MET, RUNNING, STOPPED
from kb.helpdesk.ticket_sla import SlaRules, change_priority, priority_report, refresh_clocks, ticket_clocks
from kb.helpdesk.tickets import add_reply, change_status, create_ticket, set_status, ticket_dict

H = timedelta(hours=1)
RULES = SlaRules.from_settings(Settings())  # 24/7; first response P1 1 h .. P4 24 h, resolution P1 4 h .. P4 120 h


@pytest.fixture
def sessions(database_url: str):
    engine, factory = open_database(database_url)
    with factory.begin() as db:
        add_organisation(db, "Acme")
        add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        add_staff(db, "agent@desk.example", "password-agent", "agent", "hardware")
    yield factory
    engine.dispose()


def people(db) -> tuple[User, User]:
    return (db.scalar(select(User).where(User.email == "ann@acme.example")),
            db.scalar(select(User).where(User.email == "agent@desk.example")))


def test_filing_predicts_the_priority_and_starts_both_clocks(sessions):
    with sessions.begin() as db:
        ann, _agent = people(db)
        ticket = create_ticket(db, ann, "Mail down", "Nobody in the office gets e-mail", "email", rules=RULES)
        assert (ticket.priority, ticket.predicted_priority) == ("P1", "P1")
        assert ticket.first_response_due == ticket.created_at + H
        assert ticket.resolution_due == ticket.created_at + 4 * H
        assert ticket.sla_due_at == ticket.first_response_due
        plain = create_ticket(db, ann, "Outlook", "does not sync", "email")  # no rules: the default, no clocks
        assert (plain.priority, plain.predicted_priority, plain.sla_due_at) == ("P3", "", None)
        assert ticket_clocks(plain).first_response.state == "none"


def test_business_hours_and_round_the_clock_priorities():
    settings = Settings(business_hours="Mon-Fri 09:00-18:00", business_timezone="Europe/Sofia", sla_always_on="P1")
    rules = SlaRules.from_settings(settings)
    friday = datetime(2026, 3, 6, 15, 30)  # 17:30 in Sofia
    assert rules.due(friday, "P2", rules.first_response) == datetime(2026, 3, 9, 10, 30)  # Monday 12:30 in Sofia
    assert rules.due(friday, "P1", rules.first_response) == datetime(2026, 3, 6, 16, 30)  # round the clock


def test_only_a_reply_the_customer_sees_is_a_first_response(sessions):
    with sessions.begin() as db:
        ann, agent = people(db)
        ticket = create_ticket(db, ann, "Printer", "It jams", "printers", rules=RULES)
        change_status(db, ticket, "in_progress", agent)  # a status change alone does not count
        add_reply(db, ticket, ann, "Still jams")  # nor does the customer's own reply
        assert ticket.first_response_at is None and ticket.sla_due_at == ticket.first_response_due
        ticket.events.append(TicketEvent(kind="note", author_kind="agent", author=agent, body="internal"))
        assert ticket.first_response_at is None
        event = add_reply(db, ticket, agent, "Try this", author_kind="agent")
        assert ticket.first_response_at == event.created_at
        assert ticket.sla_due_at == ticket.resolution_due  # now the resolution clock runs
        add_reply(db, ticket, agent, "And this", author_kind="agent")
        assert ticket.first_response_at == event.created_at  # the first one stays
        clocks = ticket_clocks(ticket)
        assert (clocks.first_response.state, clocks.resolution.state, clocks.current) == \
            (MET, RUNNING, clocks.resolution)


def test_resolving_stops_the_clock_and_reopening_restarts_it(sessions):
    with sessions.begin() as db:
        ann, agent = people(db)
        ticket = create_ticket(db, ann, "Printer", "It jams", "printers", rules=RULES)
        change_status(db, ticket, "resolved", agent)
        assert ticket.sla_due_at is None and ticket.resolved_at is not None
        clocks = ticket_clocks(ticket)
        assert (clocks.first_response.state, clocks.resolution.state) == (STOPPED, MET)
        add_reply(db, ticket, ann, "Not fixed")  # reopens it
        assert ticket.status == "in_progress" and ticket.resolved_at is None
        assert ticket.sla_due_at == ticket.first_response_due
        late = ticket_clocks(ticket, now=ticket.first_response_due + 35 * timedelta(minutes=1))
        assert late.first_response.state == BREACHED and late.first_response.span == timedelta(minutes=35)


def test_an_agents_priority_moves_the_due_times_and_is_a_staff_only_event(sessions):
    with sessions.begin() as db:
        ann, agent = people(db)
        ticket = create_ticket(db, ann, "Printer", "It jams", "printers", rules=RULES)
        assert ticket.priority == "P3" and ticket.first_response_due == ticket.created_at + 8 * H
        event = change_priority(db, ticket, "P1", agent, RULES)
        assert (event.kind, event.body, event.author_kind) == (EVENT_PRIORITY, "P3 → P1", "agent")
        assert (ticket.priority, ticket.predicted_priority) == ("P1", "P3")
        assert ticket.first_response_due == ticket.created_at + H and ticket.sla_due_at == ticket.first_response_due
        assert change_priority(db, ticket, "P1", agent, RULES) is None
        with pytest.raises(TicketError, match="priority must be one of"):
            change_priority(db, ticket, "urgent", agent, RULES)
        shown = ticket_dict(ticket)
        assert [e["kind"] for e in shown["events"]] == ["submitted"]
        # (the random reference may hold "P1"; it is not a priority)
        assert "priority" not in shown and "P1" not in str(shown).replace(ticket.ref, "<ref>")
        assert [e.kind for e in ticket.events] == ["submitted", "priority"]


def test_queue_sorts_by_time_left_and_filters_by_clock_and_priority(sessions):
    with sessions.begin() as db:
        ann, agent = people(db)
        p4 = create_ticket(db, ann, "Toner", "Please order toner", "printers", rules=RULES)
        p1 = create_ticket(db, ann, "Hacked", "My account was hacked", "accounts", rules=RULES)
        p3 = create_ticket(db, ann, "Outlook", "does not sync", "email", rules=RULES)
        old = create_ticket(db, ann, "Scanner", "scans are grey", "printers", rules=RULES)
        old.created_at -= 9 * H
        change_priority(db, old, "P3", agent, RULES)  # unchanged: its clocks are from filing
        old.first_response_due = old.sla_due_at = old.created_at + 8 * H  # as filed 9 h ago: breached 1 h ago
        waiting = create_ticket(db, ann, "Laptop", "slow", "hardware", rules=RULES)
        set_status(db, waiting, "waiting_on_customer", agent)
        assert [t.priority for t in (p4, p1, p3)] == ["P4", "P1", "P3"]
    with sessions() as db:
        assert [t.subject for t in queue(db, QueueFilter()).tickets] == ["Scanner", "Hacked", "Outlook", "Toner",
                                                                          "Laptop"]
        assert [t.subject for t in queue(db, QueueFilter(sort="recent")).tickets][:4] == \
            ["Scanner", "Outlook", "Hacked", "Toner"]  # the customer wrote last on the scanner (filed last)
        assert [t.subject for t in queue(db, QueueFilter(sla="breached")).tickets] == ["Scanner"]
        assert [t.subject for t in queue(db, QueueFilter(sla="soon")).tickets] == ["Hacked"]
        assert [t.subject for t in queue(db, QueueFilter(priority="P4")).tickets] == ["Toner"]
    assert parse_filter({"priority": "P9", "sla": "late", "sort": "random"}) == QueueFilter()
    assert parse_filter({"priority": "P2", "sla": "soon", "sort": "recent"}) == \
        QueueFilter(priority="P2", sla="soon", sort="recent")


def test_refresh_recomputes_due_times_and_the_report_counts_changes(sessions):
    with sessions.begin() as db:
        ann, agent = people(db)
        for subject, description in [("Mail down", "nobody gets mail"), ("Printer", "jams"), ("Toner", "order")]:
            create_ticket(db, ann, subject, description, "x", rules=RULES)
        printer = db.scalar(select(Ticket).where(Ticket.subject == "Printer"))
        change_priority(db, printer, "P2", agent, RULES)
        old = create_ticket(db, ann, "Old", "filed before priorities", "x")
        assert old.sla_due_at is None
    with sessions() as db:
        assert refresh_clocks(db, SlaRules.from_settings(Settings(sla_first_response="P1=2h, P2=2h, P3=2h, P4=2h")),
                              batch=2) == 4
        old = db.scalar(select(Ticket).where(Ticket.subject == "Old"))
        assert old.sla_due_at == old.created_at + 2 * H
        assert priority_report(db) == [
            {"predicted": "P1", "tickets": 1, "changed": 0, "final": {"P1": 1}},
            {"predicted": "P3", "tickets": 1, "changed": 1, "final": {"P2": 1}},
            {"predicted": "P4", "tickets": 1, "changed": 0, "final": {"P4": 1}}]


def test_migration_fills_first_replies_and_resolutions(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0012")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'Acme', '2026-01-01')"))
        connection.execute(text("INSERT INTO users (id, email, name, password_hash, role, organisation_id, active, "
                                "created_at) VALUES (1, 'a@acme.example', '', 'x', 'member', 1, 1, '2026-01-01')"))
        for n, status in ((1, "resolved"), (2, "submitted")):
            connection.execute(text(
                "INSERT INTO tickets (id, ref, organisation_id, customer_id, subject, description, category, status, "
                f"deflection, created_at, updated_at) VALUES ({n}, 'KB-AAAAAAA{n}', 1, 1, 's', 'd', 'vpn', "
                f"'{status}', '{{}}', '2026-01-01 10:00:00', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO ticket_events (ticket_id, kind, author_kind, body, status_to, created_at) VALUES "
            "(1, 'status', 'agent', '', 'in_progress', '2026-01-01 10:30:00'), "
            "(1, 'reply', 'agent', 'hi', NULL, '2026-01-01 11:00:00'), "
            "(1, 'reply', 'agent', 'again', NULL, '2026-01-01 12:00:00'), "
            "(1, 'status', 'agent', '', 'resolved', '2026-01-02 09:00:00')"))
    upgrade(engine)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT priority, first_response_at, resolved_at, sla_due_at FROM tickets "
                                       "ORDER BY id")).all()
    engine.dispose()
    assert str(rows[0][1]).startswith("2026-01-01 11:00:00") and str(rows[0][2]).startswith("2026-01-02 09:00:00")
    assert rows[0][0] == rows[1][0] == "P3" and rows[1][1:] == (None, None, None)


def test_cli_refresh_and_report(tmp_path: Path):
    from click.testing import CliRunner

    from kb.cli import cli

    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    engine, factory = open_database(url)
    with factory.begin() as db:
        add_organisation(db, "Acme")
        ann = add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        create_ticket(db, ann, "Hacked", "my account was hacked", "accounts", rules=RULES)
        create_ticket(db, ann, "Old", "before priorities", "accounts")
    engine.dispose()
    runner = CliRunner(env={"KB_BUSINESS_HOURS": "Mon-Fri 09:00-18:00"})
    refreshed = runner.invoke(cli, ["sla", "refresh", "--database", url], obj={})
    assert refreshed.exit_code == 0 and "computed for 2 ticket(s)" in refreshed.output
    report = runner.invoke(cli, ["sla", "report", "--database", url], obj={})
    assert report.exit_code == 0 and "predicted P1: 1 ticket(s), changed 0 (0%); now P1 1" in report.output
    wrong = CliRunner(env={"KB_BUSINESS_HOURS": "weekdays"}).invoke(cli, ["sla", "refresh", "--database", url],
                                                                   obj={})
    assert wrong.exit_code == 1 and "setting 'business_hours'" in wrong.output and "Traceback" not in wrong.output
