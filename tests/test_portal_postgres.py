"""The portal's database on PostgreSQL: a throw-away server in a temporary folder on a free loopback port.

Skipped only where no PostgreSQL server binaries are installed (Debian's `postgresql` package provides them).
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from kb.helpdesk.db import compared, current_revision, head_revision, open_database
from kb.helpdesk.models import Base, Ticket
from tests.portal import add_people, file_ticket, make_app, post, sign_in

pytestmark = pytest.mark.slow


def test_migrations_give_the_models_schema_on_postgresql(clean_database):
    engine, _ = open_database(clean_database)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": compared})
        diff = compare_metadata(context, Base.metadata)
    # The one index declared for SQLite only (SearchRecord: its partial index of failed searches' texts).
    assert [(d[0], d[1].name) for d in diff if d[0] == "add_index"] == [("add_index", "ix_searches_failed_text")]
    assert [d for d in diff if d[0] != "add_index"] == []
    engine.dispose()


UPGRADE = "import sys; from kb.helpdesk.db import open_database; open_database(sys.argv[1])[0].dispose()"


def test_nodes_starting_together_upgrade_an_empty_database_once(clean_database):
    """Four nodes' processes open an empty database at once, each upgrading it: every one exits 0 (the advisory
    lock lets one migrate while the others wait, then find the schema current), and the schema is at head."""
    nodes = [subprocess.Popen([sys.executable, "-c", UPGRADE, clean_database], stderr=subprocess.PIPE, text=True)
             for _ in range(4)]
    results = [(node.wait(timeout=240), node.stderr.read()) for node in nodes]
    assert [code for code, _ in results] == [0] * 4, [err[-600:] for _, err in results]
    engine, _ = open_database(clean_database, migrate=False)
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()


def test_portal_on_postgresql(portal_index, clean_database, tmp_path):
    settings, service = portal_index
    app = make_app(replace(settings, database_url=clean_database, secret_key="k" * 32), service)
    add_people(app)
    ann = app.test_client()
    sign_in(ann, "ann@acme.example")
    ref = file_ticket(ann, subject="<script>alert(1)</script> Привет 🙂", description="Line one\nLine two")
    assert ann.get(f"/api/tickets/{ref}").get_json()["subject"] == "<script>alert(1)</script> Привет 🙂"
    assert ann.post("/api/tickets", json={"subject": "nul\x00byte", "description": "kept"}).status_code == 201
    page = ann.get(f"/tickets/{ref}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Привет 🙂" in page
    assert ann.get("/articles/printer-offline").status_code == 200
    assert post(ann, "/articles/printer-offline/vote", {"helpful": "yes"}).status_code == 302
    assert post(ann, "/articles/printer-offline/vote", {"helpful": "no"}).status_code == 302
    meg = app.test_client()
    sign_in(meg, "meg@acme.example")
    assert ref in meg.get("/tickets").get_data(as_text=True)
    oz = app.test_client()
    sign_in(oz, "oz@other.example")
    assert oz.get(f"/tickets/{ref}").status_code == 404
    with app.extensions["kb.db"]() as db:
        tickets = list(db.scalars(select(Ticket).order_by(Ticket.id)))
    assert [t.subject for t in tickets][1] == "nulbyte"  # control characters never reach the database
    assert tickets[0].deflection["query"].startswith("<script>")
    app.extensions["kb.engine"].dispose()
