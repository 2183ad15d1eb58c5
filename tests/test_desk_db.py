"""The desk's database side: staff accounts, routing rules, transitions, labels, links in replies, the queue,
the migration of an existing database, and the CLI commands."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from kb.helpdesk.accounts import add_organisation, add_staff, add_user, authenticate, can_see_ticket
from kb.cli import cli
from kb.config import load_settings
from kb.helpdesk.db import holdable, make_engine, open_database, upgrade
from kb.helpdesk.queue import QueueFilter, parse_filter, queue
from kb.errors import AccountError, ConfigError, TicketError
from kb.helpdesk.models import Ticket, User
from kb.helpdesk.replies import REMOVED, clean_reply
from kb.helpdesk.routing import parse_routing
from kb.helpdesk.tickets import (add_reply, category_labels, change_category, change_status, create_ticket, next_statuses,
                        tickets_for)


@pytest.fixture
def sessions(database_url: str):
    engine, factory = open_database(database_url)
    with factory.begin() as db:
        add_organisation(db, "Acme")
        add_organisation(db, "Other")
        add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        add_user(db, "oz@other.example", "password-oz", "Other", "manager")
        add_staff(db, "agent@desk.example", "password-agent", "agent", "hardware")
    yield factory
    engine.dispose()


def user(db, email: str) -> User:
    return db.scalar(select(User).where(User.email == email))


def test_staff_are_in_no_organisation_and_see_nothing_through_customer_rules(sessions):
    with sessions.begin() as db:
        ann, agent = user(db, "ann@acme.example"), user(db, "agent@desk.example")
        ticket = create_ticket(db, ann, "Printer", "offline")
        assert agent.organisation_id is None and agent.is_staff and not ann.is_staff
        assert agent.agent_group == "hardware"
        assert not can_see_ticket(agent, ticket) and tickets_for(db, agent) == []
        assert authenticate(db, "agent@desk.example", "password-agent").role == "agent"


@pytest.mark.parametrize("email, role, group, message", [
    ("x@desk.example", "manager", "", "role must be one of agent, admin"),
    ("agent@desk.example", "agent", "", "already exists"),
    ("y@desk.example", "admin", "bad group!", "a group name has"),
    ("nope", "agent", "", "not an e-mail address"),
])
def test_bad_staff_accounts_are_refused(sessions, email, role, group, message):
    with sessions() as db, pytest.raises(AccountError, match=message):
        add_staff(db, email, "long enough", role, group)


def test_routing_rules(tmp_path: Path):
    routing = parse_routing("printers=hardware, accounts = identity ,*=front-desk")
    assert routing.group_for("printers") == "hardware" and routing.group_for("accounts") == "identity"
    assert routing.group_for("vpn") == "front-desk" and routing.group_for(None) == "front-desk"
    assert routing.groups == ["front-desk", "hardware", "identity"]
    assert parse_routing("").group_for("vpn") == "general"
    for bad in ("printers", "printers=", "a=b,a=c", "x=<b>"):
        with pytest.raises(ConfigError, match="routing"):
            parse_routing(bad)
    assert load_settings(environ={"KB_ROUTING": "vpn=network"}).routing == "vpn=network"
    config = tmp_path / "kb.toml"
    config.write_text('routing = "printers=hardware, *=general"\n', encoding="utf-8")
    assert parse_routing(load_settings(config, environ={}).routing).group_for("printers") == "hardware"


def test_new_tickets_keep_prediction_group_and_last_customer_word(sessions):
    with sessions.begin() as db:
        ann, agent = user(db, "ann@acme.example"), user(db, "agent@desk.example")
        ticket = create_ticket(db, ann, "Printer", "offline", "accounts", predicted="printers", group="hardware")
        filed = ticket.last_customer_at
        assert (ticket.category, ticket.predicted_category, ticket.agent_group) == ("accounts", "printers", "hardware")
        add_reply(db, ticket, agent, "Which model?", author_kind="agent")
        assert ticket.last_customer_at == filed  # an agent's reply is not the customer's
        add_reply(db, ticket, ann, "HP")
        assert ticket.last_customer_at > filed or ticket.last_customer_at == ticket.events[-1].created_at


def test_transitions(sessions):
    assert next_statuses("submitted") == ("in_progress", "waiting_on_customer", "resolved")
    assert next_statuses("waiting_on_customer") == ("in_progress", "resolved")
    assert next_statuses("resolved") == ("in_progress",)
    with sessions.begin() as db:
        ann, agent = user(db, "ann@acme.example"), user(db, "agent@desk.example")
        ticket = create_ticket(db, ann, "Printer", "offline")
        change_status(db, ticket, "resolved", agent)
        with pytest.raises(TicketError, match="cannot move"):
            change_status(db, ticket, "waiting_on_customer", agent)
        with pytest.raises(TicketError, match="cannot move"):
            change_status(db, ticket, "submitted", agent)
        reopened = change_status(db, ticket, "in_progress", agent)
        assert reopened.body == "Reopened" and reopened.author_kind == "agent"
        change_status(db, ticket, "waiting_on_customer", agent)
        add_reply(db, ticket, ann, "Here is the model")
        assert ticket.status == "in_progress" and ticket.events[-1].author_kind == "customer"


def test_category_changes_are_exported_as_labels(sessions):
    with sessions.begin() as db:
        ann, agent = user(db, "ann@acme.example"), user(db, "agent@desk.example")
        ticket = create_ticket(db, ann, "VPN", "cannot connect from home", "printers", predicted="printers")
        assert change_category(db, ticket, "printers", agent) is None  # no change, no label
        change_category(db, ticket, "vpn", agent, group="network")
        assert ticket.agent_group == "network"
        with pytest.raises(TicketError):
            change_category(db, ticket, "", agent)
        [label] = list(category_labels(db))
    assert label["text"] == "VPN\ncannot connect from home"
    assert (label["predicted"], label["original"], label["corrected"]) == ("printers", "printers", "vpn")


def test_clean_reply_keeps_public_links_and_takes_out_every_other_article_link():
    audiences = {"pub": "public", "secret": "internal"}
    cleaned = clean_reply("[Pub](https://kb.example/articles/pub) [Secret](https://kb.example/articles/secret) "
                          "https://kb.example/articles/secret#steps, /articles/secret "
                          "https://kb.example/articles/unknown https://other.example/page", audiences)
    assert cleaned.body == (f"[Pub](https://kb.example/articles/pub) Secret {REMOVED}, {REMOVED} {REMOVED} "
                            "https://other.example/page")
    assert cleaned.linked == ["pub"] and cleaned.removed == ["secret", "secret", "secret", "unknown"]
    assert clean_reply("no links at all", audiences).body == "no links at all"


def test_queue_order_filters_counts_and_pages(sessions):
    with sessions.begin() as db:
        ann, oz = user(db, "ann@acme.example"), user(db, "oz@other.example")
        agent = user(db, "agent@desk.example")
        old = create_ticket(db, ann, "Old", "x", "printers", group="hardware")
        old.created_at = old.last_customer_at = old.created_at - timedelta(days=3)
        waiting = create_ticket(db, oz, "Waiting", "x", "vpn", group="general")
        change_status(db, waiting, "waiting_on_customer", agent)
        new = create_ticket(db, oz, "New", "x", "vpn", group="general")
        resolved = create_ticket(db, ann, "Done", "x", "printers", group="hardware")
        change_status(db, resolved, "resolved", agent)
        acme = ann.organisation_id
    with sessions() as db:
        found = queue(db, QueueFilter())
        assert [t.subject for t in found.tickets] == ["New", "Old", "Waiting", "Done"]
        assert found.counts == {"submitted": 2, "in_progress": 0, "waiting_on_customer": 1, "resolved": 1}
        assert [t.subject for t in queue(db, QueueFilter(organisation_id=acme)).tickets] == ["Old", "Done"]
        assert [t.subject for t in queue(db, QueueFilter(category="vpn")).tickets] == ["New", "Waiting"]
        assert [t.subject for t in queue(db, QueueFilter(group="hardware", status="submitted")).tickets] == ["Old"]
        assert [t.subject for t in queue(db, QueueFilter(age=">24h")).tickets] == ["Old"]
        assert [t.subject for t in queue(db, QueueFilter(age="<24h")).tickets] == ["New", "Waiting", "Done"]
        by_status = queue(db, QueueFilter(status="resolved"))
        assert by_status.total == 1 and by_status.counts["submitted"] == 2  # counts ignore the status filter
        first, second = queue(db, QueueFilter(), page=1, size=3), queue(db, QueueFilter(), page=2, size=3)
        assert (first.pages, len(first.tickets), [t.subject for t in second.tickets]) == (2, 3, ["Done"])
        assert queue(db, QueueFilter(), page=99, size=3).page == 2
    assert parse_filter({"status": "bogus", "org": "1; drop", "age": "forever", "category": "x" * 500}) == \
        QueueFilter(category="x" * 64)
    assert parse_filter({"status": "resolved", "org": "7", "age": ">7d", "group": "hardware"}) == \
        QueueFilter("resolved", "", 7, "hardware", ">7d")
    # Control characters are read out of the free-text filters (PostgreSQL refuses a NUL even to compare): the
    # queue then answers as for the text without them.
    hostile = parse_filter({"category": "vp\x00n", "group": "\x00", "q": "printer\x1b\x00"})
    assert hostile == QueueFilter(category="vpn", text="printer")
    with sessions() as db:
        assert {t.category for t in queue(db, hostile).tickets} <= {"vpn"}
        assert [t.subject for t in queue(db, replace(hostile, text="")).tickets] == ["New", "Waiting"]



def test_text_with_a_nul_is_stored_and_compared_on_every_database(sessions):
    """PostgreSQL refuses a NUL in any text, even one only compared; whatever path text takes to the database
    (here the helpdesk's own functions, with no form in front), it is held: as U+FFFD there, as typed on SQLite."""
    with sessions.begin() as db:
        ann = user(db, "ann@acme.example")
        ticket = create_ticket(db, ann, "Print\x00er", "jammed\x00", "print\x00ers")
        reference = ticket.ref
    with sessions() as db:
        stored = db.scalar(select(Ticket).where(Ticket.ref == reference))
        assert stored.subject in ("Print\x00er", "Print\ufffder")
        assert db.scalar(select(Ticket.ref).where(Ticket.subject == "Print\x00er")) == reference
        assert db.scalar(select(Ticket.ref).where(Ticket.subject == "Printer")) is None
        assert [t.ref for t in queue(db, QueueFilter(category="print\x00ers")).tickets] == [reference]
        assert user(db, "ann@acme.example\x00") is None

def test_migration_keeps_existing_tickets(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0001")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO organisations (id, name, created_at) VALUES (1, 'Acme', '2026-01-01')"))
        connection.execute(text("INSERT INTO users (id, email, name, password_hash, role, organisation_id, active, "
                                "created_at) VALUES (1, 'a@acme.example', '', 'x', 'member', 1, 1, '2026-01-01')"))
        connection.execute(text("INSERT INTO tickets (id, ref, organisation_id, customer_id, subject, description, "
                                "category, status, deflection, created_at, updated_at) VALUES (1, 'KB-AAAAAAAA', 1, "
                                "1, 's', 'd', 'vpn', 'submitted', '{}', '2026-01-01 10:00:00', '2026-01-01')"))
        connection.execute(text("INSERT INTO ticket_events (ticket_id, kind, author_kind, body, created_at) VALUES "
                                "(1, 'reply', 'customer', 'more', '2026-01-02 09:00:00')"))
    upgrade(engine)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT last_customer_at, agent_group, predicted_category FROM tickets")).one()
    assert str(row[0]).startswith("2026-01-02 09:00:00") and row[1] == "" and row[2] == ""
    engine.dispose()


def test_cli_agent_add_demo_seed_and_export_labels(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()

    def kb(*args, **kwargs):
        return runner.invoke(cli, list(args), obj={}, catch_exceptions=False, **kwargs)

    added = kb("agent", "add", "Sam@Desk.example", "--role", "admin", "--group", "hardware", "--password-stdin",
               "--database", url, input="s3cret-pass\n")
    assert added.exit_code == 0 and "admin sam@desk.example created in group 'hardware'" in added.output
    again = kb("agent", "add", "sam@desk.example", "--password-stdin", "--database", url, input="s3cret-pass\n")
    assert again.exit_code == 1 and "already exists" in again.output
    seeded = kb("demo-seed", "--database", url)
    assert "agent@demo.example" in seeded.output and "demo-agent-pass" in seeded.output
    assert "admin@demo.example" in seeded.output and "demo-admin-pass" in seeded.output
    engine, factory = open_database(url)
    with factory.begin() as db:
        assert authenticate(db, "sam@desk.example", "s3cret-pass").role == "admin"
        assert authenticate(db, "agent@demo.example", "demo-agent-pass").organisation_id is None
        customer = user(db, "member@demo.example")
        ticket = create_ticket(db, customer, "Printer", "offline", "printers", predicted="printers")
        change_category(db, ticket, "accounts", user(db, "sam@desk.example"))
    engine.dispose()
    out = tmp_path / "labels.jsonl"
    exported = kb("export-labels", "--output", str(out), "--database", url)
    assert exported.exit_code == 0 and "1 label(s) written" in exported.output
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (row["text"], row["predicted"], row["corrected"]) == ("Printer\noffline", "printers", "accounts")


def test_holdable_parameters_reach_every_row_of_an_executemany():
    rows = [{"a": "x\x00y", "n": 1}, {"a": "plain", "n": None}]
    assert holdable(rows) == [{"a": "x\ufffdy", "n": 1}, {"a": "plain", "n": None}]
    assert holdable(("\x00", b"\x00", 2.5)) == ("\ufffd", b"\x00", 2.5)  # bytes are not text: kept
