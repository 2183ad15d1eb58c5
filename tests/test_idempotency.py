"""A retried ticket request files one ticket: the API's Idempotency-Key header, the ticket form's one-time key,
the database's unique index under both, and the migration that adds it (with the users' session generation)."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

import kb.helpdesk.tickets
from kb.helpdesk.db import current_revision, head_revision, downgrade, make_engine, open_database, upgrade
from kb.helpdesk.models import User
from kb.helpdesk.tickets import create_ticket
from tests.portal import add_people, make_app, post, sign_in, tickets

TICKET = {"subject": "Printer offline", "description": "It says offline since Monday"}


def file(client, key: str | None, body: dict | None = None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post("/api/tickets", json=body or TICKET, headers=headers)


def test_a_retried_api_request_files_one_ticket(app, ann):
    first = file(ann, "7c9e6679-7425-40de-944b-e07fc1f90ae7")
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = file(ann, "7c9e6679-7425-40de-944b-e07fc1f90ae7")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["ref"] == first.get_json()["ref"]
    assert len(tickets(app)) == 1
    assert file(ann, "another-key").status_code == 201  # a new key is a new ticket
    assert file(ann, None).status_code == 201 and file(ann, None).status_code == 201  # no key: no de-duplication
    assert len(tickets(app)) == 4


def test_keys_belong_to_one_customer(app, ann):
    mine = file(ann, "shared-key").get_json()["ref"]
    bob = app.test_client()
    sign_in(bob, "bob@acme.example")
    theirs = file(bob, "shared-key")
    assert theirs.status_code == 201 and theirs.get_json()["ref"] != mine
    assert file(ann, "shared-key").get_json()["ref"] == mine


def test_a_key_reused_for_another_ticket_is_refused(app, ann):
    ref = file(ann, "key-1").get_json()["ref"]
    response = file(ann, "key-1", {"subject": "VPN down", "description": "no tunnel"})
    assert response.status_code == 422 and response.get_json()["field"] == "Idempotency-Key"
    assert ref in response.get_json()["error"]
    assert len(tickets(app)) == 1


@pytest.mark.parametrize("key", ["", "x" * 65, "two words", "tab\there", "caf\xe9"])
def test_bad_idempotency_keys_are_a_400_naming_the_header(app, ann, key):
    response = file(ann, key)
    assert response.status_code == 400 and response.get_json()["field"] == "Idempotency-Key"
    assert tickets(app) == []


def test_a_retry_racing_the_first_request_gets_its_ticket(app, ann, monkeypatch):
    """Both requests look the key up before either commits; the unique index lets one in, the other answers
    with the winner's ticket."""
    ref = file(ann, "racing-key").get_json()["ref"]
    real = kb.helpdesk.tickets.ticket_for_key
    calls = []

    def missed_first(db, customer, key):
        calls.append(key)
        return None if len(calls) == 1 else real(db, customer, key)

    monkeypatch.setattr(kb.helpdesk.tickets, "ticket_for_key", missed_first)
    response = file(ann, "racing-key")
    assert calls == ["racing-key", "racing-key"]  # missed, inserted, refused, found
    assert response.status_code == 200 and response.get_json()["ref"] == ref
    assert len(tickets(app)) == 1
    assert ann.get("/api/tickets").status_code == 200  # the session goes on after the refused insert


def form_key(page: str) -> str:
    return re.search(r'<input id="idempotency_key" name="idempotency_key" type="hidden" value="([^"]+)">',
                     page).group(1)


def test_a_ticket_form_submitted_twice_files_once(app, ann):
    page = ann.get("/tickets/new").get_data(as_text=True)
    key = form_key(page)
    assert form_key(ann.get("/tickets/new").get_data(as_text=True)) != key  # one key per rendering
    data = {**TICKET, "category": "printers", "idempotency_key": key}
    first, second = post(ann, "/tickets/new", data), post(ann, "/tickets/new", data)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    [ticket] = tickets(app)
    assert first.headers["Location"] == f"/tickets/{ticket.ref}" and ticket.idempotency_key == key


def test_the_ticket_form_from_contact_carries_a_key_and_a_tampered_key_is_refused(app, ann):
    page = post(ann, "/contact", {"subject": "Printer", "description": "offline", "step": "ticket"})
    key = form_key(page.get_data(as_text=True))
    assert len(key) >= 16
    response = post(ann, "/tickets/new", {**TICKET, "category": "", "idempotency_key": "<script>"})
    assert response.status_code == 400 and "did not come from this site" in response.get_data(as_text=True)
    assert tickets(app) == []


def test_the_database_refuses_a_second_ticket_with_the_same_key(app):
    with app.extensions["kb.db"]() as db:
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        create_ticket(db, ann, "a", "b", idempotency_key="k")
        create_ticket(db, ann, "a", "b")
        create_ticket(db, ann, "a", "b")  # tickets without a key never collide
        db.commit()
        with pytest.raises(IntegrityError):
            create_ticket(db, ann, "a", "b", idempotency_key="k")
        db.rollback()


def test_migration_0003_adds_its_columns_and_removes_them_keeping_the_data(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    upgrade(engine, "0002")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO organisations (name, created_at) VALUES ('Acme', '2026-01-01')"))
        connection.execute(text(
            "INSERT INTO users (email, name, password_hash, role, organisation_id, active, created_at, agent_group)"
            " VALUES ('ann@acme.example', '', 'x', 'member', 1, 1, '2026-01-01', '')"))
        connection.execute(text(
            "INSERT INTO tickets (ref, organisation_id, customer_id, subject, description, category, status,"
            " deflection, created_at, updated_at, predicted_category, agent_group, last_customer_at)"
            " VALUES ('KB-1', 1, 1, 's', 'd', '', 'submitted', '{}', '2026-01-01', '2026-01-01', '', '',"
            " '2026-01-01')"))
        connection.execute(text("INSERT INTO ticket_events (ticket_id, kind, author_kind, body, created_at)"
                                " VALUES (1, 'submitted', 'customer', '', '2026-01-01')"))
    upgrade(engine, "0003")
    assert current_revision(engine) == "0003"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT session_generation FROM users")).scalar_one() == 0
        assert connection.execute(text("SELECT idempotency_key FROM tickets")).scalar_one() is None
    assert any(ix["unique"] and ix["column_names"] == ["customer_id", "idempotency_key"]
               for ix in inspect(engine).get_indexes("tickets"))
    downgrade(engine, "0002")
    assert current_revision(engine) == "0002"
    assert "idempotency_key" not in {c["name"] for c in inspect(engine).get_columns("tickets")}
    assert "session_generation" not in {c["name"] for c in inspect(engine).get_columns("users")}
    with engine.connect() as connection:  # nothing lost on the way down: the tables were altered, not rebuilt
        assert connection.execute(text("SELECT count(*) FROM ticket_events")).scalar_one() == 1
        assert connection.execute(text("SELECT ref FROM tickets")).scalar_one() == "KB-1"
    engine.dispose()
    engine, _ = open_database(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.slow
def test_on_postgresql_the_migration_goes_both_ways_and_a_retry_files_once(portal_index, clean_database):
    engine, _ = open_database(clean_database)
    downgrade(engine, "0002")
    assert "idempotency_key" not in {c["name"] for c in inspect(engine).get_columns("tickets")}
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
    settings, service = portal_index
    app = make_app(replace(settings, database_url=clean_database, secret_key="k" * 32), service)
    add_people(app)
    client = app.test_client()
    sign_in(client, "ann@acme.example")
    first, again = file(client, "pg-key"), file(client, "pg-key")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.get_json()["ref"] == again.get_json()["ref"] and len(tickets(app)) == 1
    with app.extensions["kb.db"]() as db:
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        with pytest.raises(IntegrityError):
            create_ticket(db, ann, "a", "b", idempotency_key="pg-key")
        db.rollback()
    app.extensions["kb.engine"].dispose()
