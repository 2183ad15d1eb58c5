"""Throw-away PostgreSQL for the tests: a server in a temporary folder started from Debian's binaries, and fresh
databases on it made from one migrated template (the fixtures that use them are in tests/conftest.py)."""
from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


def postgres_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _run(args: list[str], as_postgres: bool) -> None:
    if as_postgres:
        args = ["runuser", "-u", "postgres", "--", *args]
    subprocess.run(args, check=True, capture_output=True, timeout=120)


class PostgresServer:
    """A PostgreSQL server in a temporary folder on a free loopback port, which a test may stop, start and restart
    (`pg_ctl`, as the `postgres` user when run as root: the server refuses to run as root)."""

    def __init__(self, initdb: str, pg_ctl: str) -> None:
        self.pg_ctl = pg_ctl
        self.as_postgres = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="kb-pg-"))
        self.folder.chmod(0o755)
        self.data = self.folder / "data"
        self.data.mkdir()
        if self.as_postgres:
            shutil.chown(self.data, "postgres", "postgres")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"postgresql+psycopg://kb@127.0.0.1:{self.port}/postgres"
        _run([initdb, "-D", str(self.data), "-U", "kb", "--auth=trust", "-E", "UTF8"], self.as_postgres)

    def _ctl(self, *args: str) -> None:
        _run([self.pg_ctl, "-D", str(self.data), *args], self.as_postgres)

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._ctl("-l", str(self.data / "log"), "-w", "-o",
                  f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session (as a restart does), `immediate` as a crash would."""
        self._ctl("-m", mode, "-w", "stop")

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again with the same options (the log named again: the server must not write to the
        pipe this process reads)."""
        self._ctl("-l", str(self.data / "log"), "-m", mode, "-w", "restart")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass  # a test left it stopped
        shutil.rmtree(self.folder, ignore_errors=True)


def started_server() -> PostgresServer:
    """A new server, started; the test is skipped where no PostgreSQL server binaries are installed."""
    initdb, pg_ctl = postgres_bin("initdb"), postgres_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries are not installed")
    server = PostgresServer(initdb, pg_ctl)
    try:
        server.start()
    except BaseException:
        server.remove()
        raise
    return server


TEMPLATE = "kb_template"


class TemplateDatabases:
    """Fresh databases on `server`, each a copy of one database migrated once (`CREATE DATABASE ... TEMPLATE`):
    a test starts on the current schema without running every migration again, as an SQLite test starts on a copy
    of a migrated file. One thread makes the next database while a test runs and drops the ones used, in order:
    a copy takes the server a few hundred milliseconds, which a test would otherwise wait for."""

    def __init__(self, server: PostgresServer) -> None:
        from kb.helpdesk.db import make_engine, upgrade

        self.server = server
        self.names = itertools.count(1)
        self.admin = create_engine(server.url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        self._execute(f"CREATE DATABASE {TEMPLATE}")
        engine = make_engine(self.url(TEMPLATE))
        upgrade(engine)
        engine.dispose()  # a template must have no connections while it is copied
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kb-template-databases")
        self.next: Future[str] = self.worker.submit(self._copy)

    def url(self, name: str) -> str:
        return make_url(self.server.url).set(database=name).render_as_string(hide_password=False)

    def _execute(self, statement: str) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(statement))

    def _copy(self) -> str:
        name = f"t_{next(self.names)}"
        self._execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return self.url(name)

    def create(self) -> str:
        """A new database on the current schema; its URL."""
        url, self.next = self.next.result(), self.worker.submit(self._copy)
        return url

    def create_empty(self) -> str:
        """A new database with nothing in it (no schema, no revision); its URL."""
        name = f"e_{next(self.names)}"
        self.worker.submit(self._execute, f"CREATE DATABASE {name}").result()
        return self.url(name)

    def drop(self, url: str) -> None:
        """Drop the database at `url` (soon, in the background), ending any session still connected to it."""
        self.worker.submit(self._execute, f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")

    def close(self) -> None:
        self.worker.shutdown(wait=True)
