"""Fixtures shared by the tests: the small help center, its index built once per session and shared read-only,
the portal over it with a fresh SQLite file per test, and the slow ones (a live server, Chromium, PostgreSQL)."""
from __future__ import annotations

import shutil
import textwrap
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest

from indexer.build import build_index
from kb.config import Settings
from search.service import SearchService
from tests.chromium import ARGS, ARTIFACTS, CHROMIUM
from tests.fakes import HashingEncoder
from tests.portal import add_people, make_app, serving, sign_in
from tests.postgres import TemplateDatabases, started_server

# Every test of the portal's database runs once on each (test ids end in [sqlite] and [postgresql]); a test marked
# `sqlite_only` runs on SQLite alone.
DATABASES = ("sqlite", "postgresql")
OPENED_ENGINES: list = []  # the engines the running module has opened (_databases_closed_after_each_module)
OPENED_LOGS: list = []  # the analytics writers of the apps it has made, each writing through one of those engines


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

    real = helpdesk_db.make_engine

    def recorded(url: str):
        engine = real(url)
        OPENED_ENGINES.append(engine)
        return engine

    class RecordedEventLog(EventLog):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            OPENED_LOGS.append(self)

    helpdesk_db.make_engine, web_analytics.EventLog = recorded, RecordedEventLog
    yield
    helpdesk_db.make_engine, web_analytics.EventLog = real, EventLog
    for log in OPENED_LOGS:
        log.close()
    for engine in OPENED_ENGINES:
        engine.dispose()
    OPENED_ENGINES.clear()
    OPENED_LOGS.clear()


@pytest.hookimpl(tryfirst=True)  # before pytest reads the parametrize marks and the fixtures' params
def pytest_generate_tests(metafunc) -> None:
    """A test marked `sqlite_only` gets its database (`database_url`, `module_database_url`, `live`) on SQLite
    alone."""
    if metafunc.definition.get_closest_marker("sqlite_only") is None:
        return
    for name, scope in (("database_url", "function"), ("module_database_url", "module"), ("live", "module")):
        if name in metafunc.fixturenames:
            metafunc.definition.add_marker(pytest.mark.parametrize(name, ["sqlite"], indirect=True, scope=scope))


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


@pytest.fixture(scope="session")
def template_databases():
    """One throw-away PostgreSQL server for the whole run (no test stops it), with a template database migrated
    once: TemplateDatabases; skipped where no server is installed."""
    server = started_server()
    try:
        databases = TemplateDatabases(server)
        yield databases
        databases.close()
    finally:
        server.remove()


@contextmanager
def fresh_database(request, kind: str, folder: Path) -> Iterator[str]:
    """The URL of a new database on the current schema, on SQLite (a copy of `migrated_sqlite` in `folder`) or on
    PostgreSQL (a copy of the template, dropped afterwards with the engines opened on it)."""
    if kind == "sqlite":
        shutil.copyfile(request.getfixturevalue("migrated_sqlite"), folder / "kb.sqlite3")
        yield f"sqlite:///{folder / 'kb.sqlite3'}"
        return
    databases = request.getfixturevalue("template_databases")
    url = databases.create()
    try:
        yield url
    finally:
        _dispose_engines_on(url)
        databases.drop(url)


def _dispose_engines_on(url: str) -> None:
    """Close the pooled connections of every engine this module opened on the PostgreSQL database at `url`, after
    stopping their analytics writers (a write in flight would hand its connection to the replaced pool, unclosed)."""
    name = url.rsplit("/", 1)[1]
    on_it = [e for e in OPENED_ENGINES if e.url.get_backend_name() == "postgresql" and e.url.database == name]
    for log in OPENED_LOGS:
        if log.engine in on_it:
            log.close()
    for engine in on_it:
        engine.dispose()


@pytest.fixture(params=DATABASES)
def database_url(request, tmp_path: Path) -> Iterator[str]:
    """A fresh database of the test's own with every migration applied, on SQLite and on PostgreSQL."""
    with fresh_database(request, request.param, tmp_path) as url:
        yield url


@pytest.fixture(scope="module", params=DATABASES)
def module_database_url(request, tmp_path_factory) -> Iterator[str]:
    """A fresh migrated database shared by the tests of a module, on SQLite and on PostgreSQL."""
    with fresh_database(request, request.param, tmp_path_factory.mktemp("database")) as url:
        yield url


@pytest.fixture
def portal_settings(portal_index, database_url: str, tmp_path: Path) -> Settings:
    return replace(portal_index[0], database_url=database_url, secret_key="k" * 32,
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

@pytest.fixture(scope="module", params=DATABASES)
def live(request, portal_index, tmp_path_factory):
    """The portal served by waitress on a free loopback port, with a real database (SQLite and PostgreSQL):
    (app, base URL)."""
    settings, service = portal_index
    folder = tmp_path_factory.mktemp("live")
    with fresh_database(request, request.param, folder) as url:
        settings = replace(settings, database_url=url, secret_key_file=folder / "key",
                           attachments_dir=folder / "attachments")
        app = make_app(settings, service)
        app.testing = False
        add_people(app)
        with serving(app) as port:
            yield app, f"http://127.0.0.1:{port}"


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

@pytest.fixture(scope="module")
def postgres_server():
    """A throw-away PostgreSQL server of the module's own (PostgresServer), started, which its tests may stop and
    restart; skipped where none is installed."""
    server = started_server()
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def postgres_url(postgres_server):
    """The URL of a throw-away PostgreSQL server; skipped where none is installed."""
    return postgres_server.url


@pytest.fixture
def clean_database(template_databases):
    """An empty database (no schema yet) on the run's throw-away PostgreSQL server, dropped afterwards."""
    url = template_databases.create_empty()
    yield url
    _dispose_engines_on(url)
    template_databases.drop(url)
