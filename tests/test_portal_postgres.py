"""The portal's database on PostgreSQL: a throw-away server in a temporary folder on a free loopback port.

Skipped only where no PostgreSQL server binaries are installed (Debian's `postgresql` package provides them).
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from kb.helpdesk.db import current_revision, open_database
from kb.helpdesk.models import Base, Ticket
from tests.portal_fixtures import PASSWORD, add_people, file_ticket, make_app, portal_index, post, sign_in  # noqa: F401

pytestmark = pytest.mark.slow


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _run(args: list[str], as_postgres: bool) -> None:
    if as_postgres:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True, timeout=120)


@pytest.fixture(scope="module")
def postgres_url():
    initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries are not installed")
    as_postgres = os.geteuid() == 0  # the server refuses to run as root
    folder = Path(tempfile.mkdtemp(prefix="kb-pg-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _run([initdb, "-D", str(data), "-U", "kb", "--auth=trust", "-E", "UTF8"], as_postgres)
    _run([pg_ctl, "-D", str(data), "-l", str(data / "log"), "-w", "-o",
          f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", "start"], as_postgres)
    try:
        yield f"postgresql+psycopg://kb@127.0.0.1:{port}/postgres"
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "immediate", "stop"], as_postgres)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def clean_database(postgres_url):
    engine, _ = open_database(postgres_url, migrate=False)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres_url


def test_migrations_give_the_models_schema_on_postgresql(clean_database):
    engine, _ = open_database(clean_database)
    assert current_revision(engine) == "0003"
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}),
                                Base.metadata) == []
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
