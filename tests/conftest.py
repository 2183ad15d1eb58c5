"""Fixtures shared by the tests: the small help center, its index built once per session and shared read-only,
the portal over it with a fresh SQLite file per test, and the slow ones (a live server, Chromium, PostgreSQL)."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import text

from indexer.build import build_index
from kb.config import Settings
from kb.helpdesk.db import open_database
from search.service import SearchService
from tests.chromium import ARGS, ARTIFACTS, CHROMIUM
from tests.fakes import HashingEncoder
from tests.portal import add_people, make_app, sign_in


@pytest.fixture(autouse=True, scope="module")
def _databases_closed_after_each_module():
    """Every database engine a test module opened (its apps', its fixtures') is disposed when the module ends, and
    every app's analytics writer is stopped (its thread would otherwise wake every second to the end of the run,
    one thread per app made). The test process would otherwise keep each app's pooled SQLite connections open to
    the end, and waitress's select() cannot watch a socket numbered past 1024. A disposed engine still works: it
    connects again; a stopped writer still writes, on flush."""
    from kb.helpdesk import db as helpdesk_db
    from kb.helpdesk.analytics import EventLog
    from web import analytics as web_analytics

    opened, logs = [], []
    real = helpdesk_db.make_engine

    def recorded(url: str):
        engine = real(url)
        opened.append(engine)
        return engine

    class RecordedEventLog(EventLog):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            logs.append(self)

    helpdesk_db.make_engine, web_analytics.EventLog = recorded, RecordedEventLog
    yield
    helpdesk_db.make_engine, web_analytics.EventLog = real, EventLog
    for log in logs:
        log.close()
    for engine in opened:
        engine.dispose()


TEST_HASH_METHOD = "pbkdf2:sha256:1000"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():
    """Accounts made in this process hash their passwords with a cheap method: scrypt's few hundred milliseconds
    a hash, times every account and sign-in of the suite, cost CI most of its time. Hashing and checking still run
    for real (a stored hash names its method); test_portal_db checks production's scrypt (`production_hashing`)."""
    from kb.helpdesk import accounts

    real, accounts.HASH_METHOD = accounts.HASH_METHOD, TEST_HASH_METHOD
    yield
    accounts.HASH_METHOD = real


@pytest.fixture
def production_hashing(monkeypatch):
    from kb.helpdesk import accounts

    monkeypatch.setattr(accounts, "HASH_METHOD", "scrypt")


ROOT = Path(__file__).resolve().parent.parent

CATEGORIES = """\
printers: {title: Printers, description: Connecting and fixing printers.}
accounts: {title: Accounts, description: Passwords and sign-in.}
vpn: {title: VPN, description: Remote access.}
"""

SMALL_CENTER = {
    "categories.yml": CATEGORIES,
    "printers/printer-offline.md": """\
        ---
        title: Printer shows Offline
        category: printers
        questions: [my printer says offline, printer not printing]
        tags: [printer, offline]
        related: [reset-password]
        ---
        Bring the printer back online.

        ## Windows
        Open Settings > Bluetooth & devices > Printers & scanners and select the printer.

        ## macOS
        Open System Settings > Printers & Scanners and remove then re-add the printer.
        """,
    "accounts/reset-password.md": """\
        ---
        title: Reset your password
        category: accounts
        questions: [forgot password, password expired]
        ---
        Go to the self-service password page and follow the steps.
        See also [the printer article](../printers/printer-offline.md).
        """,
    "ru/vpn-oshibka.md": """\
        ---
        title: VPN не подключается
        category: vpn
        lang: ru
        questions: [не работает впн, ошибка подключения vpn]
        ---
        Перезапустите клиент VPN и проверьте подключение к интернету.

        ## Проверка пароля
        Убедитесь, что пароль не истёк.
        """,
    "accounts/agent-only.md": """\
        ---
        title: Agent procedure for password resets
        category: accounts
        audience: internal
        ---
        Verify the caller's identity with the callback number before any password reset.
        """,
    "printers/new-printers.md": """\
        ---
        title: New printer fleet
        category: printers
        status: draft
        ---
        Draft text about the new printers.
        """,
}


# A Russian version of the small help center's reset-password article (the same id, another language).
RU_RESET_PASSWORD = {
    "ru/reset-password-ru.md": """\
        ---
        title: Сброс пароля
        id: reset-password
        category: accounts
        lang: ru
        questions: [забыл пароль, не могу войти пароль]
        ---
        Откройте страницу самообслуживания и задайте новый пароль.
        """,
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def center(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "articles", SMALL_CENTER)


@pytest.fixture
def settings(tmp_path: Path, center: Path) -> Settings:
    return Settings(articles_dir=center, index_dir=tmp_path / "var" / "index", embedding_model="fake-hashing")


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture(scope="session")
def minilm():
    """The real English model (all-MiniLM-L6-v2, torch), loaded once for the end-to-end tests that build with it."""
    from tests.importing import real_encoder

    return real_encoder()


# --- the portal over the small help center ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def portal_index(tmp_path_factory) -> tuple[Settings, SearchService]:
    """The small help center built once with the fake encoder: (settings, service), shared read-only."""
    root = tmp_path_factory.mktemp("portal")
    settings = Settings(articles_dir=write_tree(root / "articles", SMALL_CENTER), index_dir=root / "index",
                        embedding_model="fake-hashing")
    encoder = HashingEncoder()
    build_index(settings, encoder)
    return settings, SearchService.load(settings.index_dir, settings, encoder)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory) -> Path:
    """An SQLite file with every migration applied, made once: each test's database starts as a copy of it (the
    app's own start-up then finds the schema current), instead of running all migrations again per test.
    tests/test_portal_db.py runs the migrations themselves on fresh files."""
    from kb.helpdesk.db import make_engine, upgrade

    path = tmp_path_factory.mktemp("schema") / "kb.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection's close checkpoints the WAL into the file
    return path


@pytest.fixture
def portal_settings(portal_index, migrated_sqlite: Path, tmp_path: Path) -> Settings:
    shutil.copyfile(migrated_sqlite, tmp_path / "kb.sqlite3")
    return replace(portal_index[0], database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", secret_key="k" * 32,
                   secret_key_file=tmp_path / "secret_key", attachments_dir=tmp_path / "attachments")


@pytest.fixture
def app(portal_index, portal_settings):
    """The portal over the shared index, with its own database holding the people of tests.portal.PEOPLE."""
    app = make_app(portal_settings, portal_index[1])
    add_people(app)
    return app


@pytest.fixture
def drafting_app(portal_index, portal_settings, tmp_path: Path):
    """The portal over a writable copy of the small help center's articles (drafts are written into it), with the
    people of tests.portal.PEOPLE, an agent (agent@desk.example) and an editor (editor@desk.example)."""
    from kb.helpdesk.accounts import add_staff
    from tests.portal import PASSWORD

    articles = tmp_path / "articles"
    shutil.copytree(portal_index[0].articles_dir, articles)
    app = make_app(replace(portal_settings, articles_dir=articles), portal_index[1])
    add_people(app)
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, "agent@desk.example", PASSWORD, "agent", "general")
        add_staff(db, "editor@desk.example", PASSWORD, "editor")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ann(client):
    """The test client signed in as ann, a member of Acme."""
    assert sign_in(client, "ann@acme.example").status_code == 302
    return client


# --- slow: a live server and Chromium ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(portal_index, tmp_path_factory):
    """The portal served by waitress on a free loopback port, with a real SQLite file: (app, base URL)."""
    from waitress import create_server

    settings, service = portal_index
    folder = tmp_path_factory.mktemp("live")
    settings = replace(settings, database_url=f"sqlite:///{folder / 'kb.sqlite3'}", secret_key_file=folder / "key",
                       attachments_dir=folder / "attachments")
    app = make_app(settings, service)
    app.testing = False
    add_people(app)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{server.effective_port}"
    server.close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).is_file(), f"{CHROMIUM} is missing: scripts/test installs Debian's chromium"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


# --- slow: a throw-away PostgreSQL server --------------------------------------------------------------------------

def _postgres_bin(name: str) -> str | None:
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


@pytest.fixture(scope="module")
def postgres_server():
    """A throw-away PostgreSQL server (PostgresServer), started; skipped where none is installed."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries are not installed")
    server = PostgresServer(initdb, pg_ctl)
    try:
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def postgres_url(postgres_server):
    """The URL of a throw-away PostgreSQL server; skipped where none is installed."""
    return postgres_server.url


@pytest.fixture
def clean_database(postgres_url):
    """The PostgreSQL server's database with an empty public schema."""
    engine, _ = open_database(postgres_url, migrate=False)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres_url
