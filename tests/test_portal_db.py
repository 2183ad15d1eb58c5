"""The database layer: migrations against the models, accounts, tickets and their tracker, the admin commands."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from kb.helpdesk.accounts import add_organisation, add_user, authenticate, can_see_ticket, demo_seed
from kb.cli import cli
from kb.helpdesk.db import (compared, current_revision, head_revision, downgrade, make_engine, newest_revision,
                             open_database, upgrade)
from kb.errors import AccountError, DatabaseError, TicketError
from kb.helpdesk.models import Base, Organisation, Ticket, User
from kb.helpdesk.tickets import (REF_CHARS, add_reply, create_ticket, find_ticket, new_ref, set_status, ticket_dict,
                        tickets_for, tracker)


@pytest.fixture
def sessions(tmp_path: Path):
    engine, factory = open_database(f"sqlite:///{tmp_path / 'db' / 'kb.sqlite3'}")
    yield factory
    engine.dispose()


@pytest.fixture
def people(sessions):
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        add_organisation(db, "Other")
        add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        add_user(db, "bob@acme.example", "password-bob", "acme", "member")
        add_user(db, "meg@acme.example", "password-meg", "Acme", "manager")
        add_user(db, "oz@other.example", "password-oz", "Other", "manager")
    return sessions


def test_migration_on_empty_sqlite_gives_the_models_schema(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'kb.sqlite3'}")  # the folder does not exist yet
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": compared})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert set(inspect(engine).get_table_names()) >= {"organisations", "users", "tickets", "ticket_events",
                                                      "deflections", "article_views", "votes"}
    upgrade(engine)  # a current schema is left alone
    downgrade(engine, "base")
    assert "tickets" not in inspect(engine).get_table_names()


def test_the_newest_revision_read_from_the_files_is_alembics_head():
    assert newest_revision() == head_revision()


def test_a_current_schema_starts_without_loading_alembic_and_an_old_one_is_upgraded(tmp_path: Path):
    """Opening a database whose schema is at the newest migration reads its stamp with plain SQL and does not
    import Alembic (a second of a serving process's start); one a migration behind is still upgraded."""
    path = tmp_path / "kb.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    downgrade(engine, "0018")
    engine.dispose()
    probe = ("import sys; from kb.helpdesk.db import open_database, current_revision; "
             f"engine, _ = open_database({f'sqlite:///{path}'!r}); "
             "print(current_revision(engine) if len(sys.argv) > 1 else 'alembic' in sys.modules)")
    run = lambda *extra: subprocess.run([sys.executable, "-c", probe, *extra], capture_output=True, text=True,
                                        check=True, cwd=Path(__file__).resolve().parent.parent).stdout.strip()
    assert run("revision") == head_revision()  # behind: migrated (Alembic loaded to do it)
    assert run() == "False"  # current: Alembic never imported
    with make_engine(f"sqlite:///{path}").begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0018'"))
    assert run() == "True"  # a stamp that is not the newest hands over to Alembic


def test_bad_database_url_is_a_clear_error():
    with pytest.raises(DatabaseError, match="not a database URL"):
        make_engine("not a url")


def test_passwords_are_hashed_with_a_kdf_and_checked(production_hashing, people):
    with people() as db:
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        assert ann.password_hash.startswith("scrypt:") and "password-ann" not in ann.password_hash
        assert authenticate(db, "ANN@acme.example ", "password-ann").id == ann.id
        assert authenticate(db, "ann@acme.example", "password-bob") is None
        assert authenticate(db, "nobody@acme.example", "password-ann") is None


@pytest.mark.parametrize("email, password, org, role, message", [
    ("not-an-email", "long enough", "Acme", "member", "not an e-mail address"),
    ("new@acme.example", "short", "Acme", "member", "at least 8 characters"),
    ("new@acme.example", "long enough", "Nowhere", "member", "no organisation named"),
    ("new@acme.example", "long enough", "Acme", "admin", "role must be one of"),
    ("Ann@Acme.example", "long enough", "Acme", "member", "already exists"),
])
def test_bad_accounts_are_refused_with_a_reason(people, email, password, org, role, message):
    with people() as db, pytest.raises(AccountError, match=message):
        add_user(db, email, password, org, role)


def test_duplicate_organisation_is_refused(people):
    with people() as db, pytest.raises(AccountError, match="already exists"):
        add_organisation(db, "  acme ")


def test_ticket_refs_are_random_base32():
    refs = {new_ref() for _ in range(2000)}
    assert len(refs) == 2000
    assert all(re.fullmatch(r"KB-[0-9A-HJKMNP-TV-Z]{%d}" % REF_CHARS, r) for r in refs)


def test_ticket_life_and_tracker(people):
    with people.begin() as db:
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        ticket = create_ticket(db, ann, "<b>Printer</b>", "It is offline", "printers",
                               deflection={"query": "printer offline", "shown": [{"id": "printer-offline"}]})
        ref = ticket.ref
        assert [s.state for s in tracker(ticket)] == ["current", "todo", "todo", "todo"]
        set_status(db, ticket, "in_progress")
        set_status(db, ticket, "waiting_on_customer", note="Which model is it?")
        assert set_status(db, ticket, "waiting_on_customer") is None  # no event for no change
        add_reply(db, ticket, ann, "An HP LaserJet")  # the customer answered: back in progress
        with pytest.raises(TicketError, match="status must be one of"):
            set_status(db, ticket, "closed")
    with people() as db:
        ticket = find_ticket(db, ref.lower())
        assert ticket.subject == "<b>Printer</b>" and ticket.status == "in_progress"
        assert ticket.deflection["shown"] == [{"id": "printer-offline"}]
        steps = tracker(ticket)
        assert [s.state for s in steps] == ["done", "current", "todo", "todo"]
        assert steps[0].reached_at is not None and steps[1].reached_at is not None and steps[2].reached_at is None
        kinds = [(e.kind, e.author_kind, e.status_to) for e in ticket.events]
        assert kinds == [("submitted", "customer", "submitted"), ("status", "agent", "in_progress"),
                         ("status", "agent", "waiting_on_customer"), ("reply", "customer", None),
                         ("status", "customer", "in_progress")]
        data = ticket_dict(ticket)
        assert data["ref"] == ref and data["steps"][1]["state"] == "current" and len(data["events"]) == 5


@pytest.mark.parametrize("subject, description", [("", "text"), ("x" * 201, "text"), ("ok", "  "),
                                                  ("ok", "x" * 20001)])
def test_bad_tickets_are_refused(people, subject, description):
    with people() as db:
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        with pytest.raises(TicketError):
            create_ticket(db, ann, subject, description)


def test_who_sees_which_ticket(people):
    with people.begin() as db:
        users = {u.email.split("@")[0]: u for u in db.scalars(select(User))}
        ticket = create_ticket(db, users["ann"], "Mine", "Only mine")
        assert can_see_ticket(users["ann"], ticket)
        assert can_see_ticket(users["meg"], ticket)  # manager of the same organisation
        assert not can_see_ticket(users["bob"], ticket)  # another member of the same organisation
        assert not can_see_ticket(users["oz"], ticket)  # a manager of another organisation
        assert not can_see_ticket(None, ticket)
        assert [t.subject for t in tickets_for(db, users["meg"])] == ["Mine"]
        assert tickets_for(db, users["bob"]) == [] and tickets_for(db, users["oz"]) == []


def test_demo_seed_is_idempotent(sessions):
    with sessions.begin() as db:
        first = demo_seed(db)
    with sessions.begin() as db:
        second = demo_seed(db)
        assert demo_seed(db, if_empty=True).created is False
        assert first.created and not second.created
        assert db.query(Organisation).count() == 1 and db.query(User).count() == 4
        for email, role, password in first.users:
            assert authenticate(db, email, password).role == role


def test_admin_commands(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    runner = CliRunner()

    def kb(*args, **kwargs):
        return runner.invoke(cli, list(args), obj={}, catch_exceptions=False, **kwargs)

    assert f"revision {head_revision()}" in kb("db", "upgrade", "--database", url).output
    assert kb("org", "add", "Acme", "--database", url).exit_code == 0
    again = kb("org", "add", "acme", "--database", url)
    assert again.exit_code == 1 and "already exists" in again.output
    added = kb("user", "add", "Ann@Acme.example", "--org", "Acme", "--role", "manager", "--password-stdin",
               "--database", url, input="s3cret-pass\n")
    assert added.exit_code == 0 and "ann@acme.example (manager)" in added.output
    short = kb("user", "add", "x@acme.example", "--org", "Acme", "--password-stdin", "--database", url, input="x\n")
    assert short.exit_code == 1 and "at least 8 characters" in short.output
    prompted = kb("user", "add", "p@acme.example", "--org", "Acme", "--database", url,
                  input="prompted-pass\nprompted-pass\n")
    assert prompted.exit_code == 0
    skipped = kb("demo-seed", "--if-empty", "--database", url)
    assert "already has users" in skipped.output
    seeded = kb("demo-seed", "--database", url)
    assert "member@demo.example" in seeded.output and "demo-member-pass" in seeded.output
    engine, factory = open_database(url)
    with factory() as db:
        assert authenticate(db, "ann@acme.example", "s3cret-pass") is not None
        assert authenticate(db, "p@acme.example", "prompted-pass") is not None
        assert db.query(Ticket).count() == 0
    engine.dispose()


def test_every_migration_steps_down_and_up_keeping_the_tickets(database_url: str):
    """From head down to the first revision one step at a time, and back up, on each database: every step runs
    with a ticket in the database and keeps it, and the schema at the end is the models' again."""
    engine, factory = open_database(database_url)
    with factory.begin() as db:
        add_organisation(db, "Acme")
        ann = add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        create_ticket(db, ann, "Printer offline", "It says offline.", "printers")
    steps = 0
    while current_revision(engine) != "0001":
        downgrade(engine, "-1")
        steps += 1
        with engine.connect() as connection:
            assert connection.execute(text("SELECT subject FROM tickets")).scalar_one() == "Printer offline"
    assert steps == int(head_revision()) - 1
    while current_revision(engine) != head_revision():
        upgrade(engine, "+1")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT subject FROM tickets")).scalar_one() == "Printer offline"
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": compared})
        diff = compare_metadata(context, Base.metadata)
    # (PostgreSQL lacks the one index declared for SQLite only: the partial index of failed searches' texts)
    assert [d for d in diff if d[0] != "add_index" or d[1].name != "ix_searches_failed_text"] == []
    engine.dispose()


def test_on_sqlite_a_reference_to_a_missing_row_stops_a_migration_naming_it(tmp_path: Path):
    """Migrations run on SQLite with foreign keys off (its procedure for changing a table) and check every
    reference afterwards: a database holding a row that refers to a missing one gets an error naming its table."""
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    upgrade(engine, "0018")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.exec_driver_sql("INSERT INTO ticket_events (ticket_id, kind, author_kind, body, created_at) "
                                   "VALUES (999, 'reply', 'customer', 'x', '2026-01-01')")
        connection.commit()
    with pytest.raises(DatabaseError, match="ticket_events"):
        upgrade(engine)
    with engine.connect() as connection:  # the connection goes back to the pool checking foreign keys again
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
    engine.dispose()
