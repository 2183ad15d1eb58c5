"""A gunicorn worker killed with SIGKILL while customers file tickets, as the production command runs the portal
(web/gunicorn_conf.py's settings, two sync workers, over the small help center built with the fake encoder), on a
real SQLite file and on PostgreSQL: the other worker keeps answering, the master starts a replacement that answers
too, no answer is a 500, and every ticket a customer was told about is in the database once, under the reference
given. The one request a killed worker held breaks off at the connection level; the customer sends it again with the
same idempotency key. A second test kills the worker while a ticket's insert waits on a lock the test holds: the
ticket is not stored, and the retry files it once.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import sqlite3
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.cluster import Visitor, hidden, sign_in
from tests.portal import PASSWORD
from tests.serving_processes import SlowRequest, free_port, get, serving_env, start, stop, wait_until_up

pytestmark = pytest.mark.slow
WORKERS = 2
CUSTOMERS = [f"customer{n}@acme.example" for n in range(4)]
KILL_AFTER = 8  # tickets acknowledged before a worker is killed
AFTER_REPLACEMENT = 8  # tickets acknowledged after the replacement worker started, before the load stops
TRIES = 5  # a customer sends a request again after a broken connection, at most this often
ANSWERED = {"page": {200}, "form": {302}, "api": {201, 200}}  # what each kind is answered (200: a replayed key)


# --- gunicorn's processes -------------------------------------------------------------------------------------------

def live_children(master: int) -> set[int]:
    """The processes gunicorn's master started that have not died (a killed worker the master has not yet reaped
    is a zombie: left out)."""
    found = set()
    for task in Path(f"/proc/{master}/task").iterdir():
        for pid in (task / "children").read_text().split():
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state not in ("Z", "X"):
                found.add(int(pid))
    return found


def connections_held(pid: int, port: int) -> int:
    """How many connections to `port` process `pid` holds open: a sync worker holds one while it answers a request
    (a connection not yet accepted is the listening socket's, in no worker's files)."""
    sockets = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            sockets.add(target[len("socket:["):-1])
    held = 0
    for line in Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]:
        local, state, inode = line.split()[1], line.split()[3], line.split()[9]
        held += int(local.rsplit(":", 1)[1], 16) == port and state == "01" and inode in sockets  # 01: established
    return held


def wait_for(condition, what: str, timeout: float = 60.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(interval)
    return found


@dataclass
class Gunicorn:
    process: object
    err: Path
    base: str
    env: dict[str, str]

    @property
    def workers(self) -> set[int]:
        return live_children(self.process.pid)

    @property
    def port(self) -> int:
        return int(self.base.rsplit(":", 1)[1])


@pytest.fixture
def serve(tmp_path: Path):
    """Start gunicorn with the production settings (tests/served_gunicorn.py: web.gunicorn_conf's own) and
    WORKERS sync workers over `database_url`; stopped with SIGTERM at the end, which must exit 0."""
    started: list[Gunicorn] = []

    def serve(index_dir: Path, database_url: str) -> Gunicorn:
        env = serving_env(index_dir, database_url, tmp_path)
        env["KB_RATE_LIMIT_TICKETS"] = "1000/hour"  # every customer files many tickets in a few seconds
        port = free_port()
        proc, err = start([sys.executable, "-m", "gunicorn", "-c", "python:tests.served_gunicorn", "--bind",
                           f"127.0.0.1:{port}", "--workers", str(WORKERS), "tests.served_app:application()"],
                          env, tmp_path)
        server = Gunicorn(proc, err, f"http://127.0.0.1:{port}", env)
        started.append(server)
        wait_until_up(proc, err, server.base + "/readyz")
        wait_for(lambda: len(server.workers) == WORKERS, "gunicorn did not start its workers")
        return server

    yield serve
    for server in started:
        if server.process.poll() is None:
            server.process.send_signal(signal.SIGTERM)
            try:
                assert server.process.wait(timeout=60) == 0, server.err.read_text(encoding="utf-8")
            finally:
                stop(server.process)


def add_customers(database_url: str) -> None:
    from kb.helpdesk.accounts import add_organisation, add_user
    from kb.helpdesk.db import open_database

    engine, sessions = open_database(database_url)
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        for email in CUSTOMERS:
            add_user(db, email, PASSWORD, "Acme", "member")
    engine.dispose()


def stored_tickets(database_url: str) -> list[tuple[str, str]]:
    """(ref, subject) of every ticket in the database."""
    from kb.helpdesk.db import open_database
    from kb.helpdesk.models import Ticket

    engine, sessions = open_database(database_url, migrate=False)
    with sessions() as db:
        found = [tuple(row) for row in db.execute(select(Ticket.ref, Ticket.subject))]
    engine.dispose()
    return found


# --- customers ------------------------------------------------------------------------------------------------------

@dataclass
class Attempt:
    kind: str  # page, form or api
    started: float
    ended: float
    status: int | None  # None: the connection broke off before an answer


@dataclass
class Load:
    base: str
    attempts: list[Attempt] = field(default_factory=list)
    acknowledged: dict[str, str] = field(default_factory=dict)  # subject -> ref the customer was told
    given_up: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Condition = field(default_factory=threading.Condition)

    def send(self, visitor: Visitor, kind: str, method: str, path: str, **request):
        """The request, sent again as it was (the same form, the same key) while the connection breaks off."""
        for _try in range(TRIES):
            started = time.monotonic()
            try:
                reply = visitor.request(method, path, **request)
            except (OSError, http.client.HTTPException):
                reply = None
            with self.lock:
                self.attempts.append(Attempt(kind, started, time.monotonic(), reply and reply.status))
            if reply is not None:
                return reply
            time.sleep(0.1)
        return None

    def customer(self, email: str) -> None:
        try:
            visitor = Visitor(self.base)
            assert sign_in(visitor, email, PASSWORD).status == 302
            n = 0
            while not self.stop.is_set():
                self.send(visitor, "page", "GET", "/search?q=printer+offline")
                self.file(visitor, f"Load {email} #{n}", "form" if n % 2 else "api")
                n += 1
        except Exception as exc:  # noqa: BLE001 - reported by the test
            with self.lock:
                self.errors.append(f"{email}: {exc!r}")
                self.lock.notify_all()

    def file(self, visitor: Visitor, subject: str, kind: str) -> None:
        if kind == "api":
            body = json.dumps({"subject": subject, "description": "Paper jam in tray 2"})
            key = subject.replace(" ", "-")  # the same key for each try
            reply = self.send(visitor, kind, "POST", "/api/tickets", body=body,
                              headers={"Content-Type": "application/json", "Idempotency-Key": key})
            ref = reply and reply.status in (200, 201) and json.loads(reply.text)["ref"]
        else:
            page = self.send(visitor, "page", "GET", "/tickets/new")
            if page is None or page.status != 200:
                with self.lock:
                    self.given_up.append(subject)
                return
            form = {"subject": subject, "description": "Paper jam in tray 2", "category": "printers",
                    "csrf_token": hidden(page.text, "csrf_token"),
                    "idempotency_key": hidden(page.text, "idempotency_key")}
            reply = self.send(visitor, kind, "POST", "/tickets/new", form=form)
            ref = reply and reply.status == 302 and reply.headers["Location"].rsplit("/", 1)[1]
        with self.lock:
            if ref:
                self.acknowledged[subject] = ref
            else:
                self.given_up.append(subject)
            self.lock.notify_all()

    def wait_acknowledged(self, count: int) -> None:
        with self.lock:
            assert self.lock.wait_for(lambda: len(self.acknowledged) >= count or self.errors, timeout=120), \
                f"{len(self.acknowledged)} tickets acknowledged"
        assert self.errors == []


# --- the tests ------------------------------------------------------------------------------------------------------

def sqlite_database(portal_settings) -> str:
    add_customers(portal_settings.database_url)
    return portal_settings.database_url


def postgres_database(request) -> str:
    url = request.getfixturevalue("clean_database")
    add_customers(url)  # (the schema created here first)
    return url


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_worker_killed_mid_load_loses_no_acknowledged_ticket(serve, portal_settings, request, database):
    url = sqlite_database(portal_settings) if database == "sqlite" else postgres_database(request)
    server = serve(portal_settings.index_dir, url)
    first = server.workers
    load = Load(server.base)
    customers = [threading.Thread(target=load.customer, args=(email,)) for email in CUSTOMERS]
    for thread in customers:
        thread.start()
    try:
        load.wait_acknowledged(KILL_AFTER)
        victim = wait_for(lambda: next((pid for pid in sorted(first) if connections_held(pid, server.port)), None),
                          "no worker answered a request", interval=0.001)  # killed with a request in hand, mostly
        kill = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: victim not in server.workers, "the killed worker is still alive")
        dead = time.monotonic()
        replacement = wait_for(lambda: server.workers - first, "the master started no replacement worker")
        replaced = time.monotonic()
        load.wait_acknowledged(len(load.acknowledged) + AFTER_REPLACEMENT)
    finally:
        load.stop.set()
        for thread in customers:
            thread.join(timeout=120)

    # Both live workers answer, one of them the replacement: with one held by a request, the other answers.
    slow = SlowRequest(server.base, server.env)
    held = int(slow.started.read_text(encoding="utf-8"))
    status, _headers, body = get(server.base + "/_test/threads")
    answered = json.loads(body)["pid"]
    assert status == 200 and {held, answered} == server.workers == (first - {victim}) | replacement
    assert slow.answer()[0] == 200

    assert load.errors == [] and load.given_up == []
    statuses = {x.status for x in load.attempts}
    assert 500 not in statuses and statuses <= {None, *set().union(*ANSWERED.values())}, statuses
    # Only the one request the killed worker held (a sync worker holds one) broke off; its retry was answered.
    broken = [x for x in load.attempts if x.status is None]
    assert len(broken) <= 1 and all(x.started < dead and x.ended >= kill for x in broken), broken
    assert all(x.status in ANSWERED[x.kind] for x in load.attempts if x.started >= dead)
    assert [x for x in load.attempts if x.started >= replaced], "no request was sent after the replacement started"
    # Every ticket a customer was told about is stored once, under the reference the customer was given.
    stored = [(ref, subject) for ref, subject in stored_tickets(url) if subject.startswith("Load ")]
    assert sorted(stored) == sorted((ref, subject) for subject, ref in load.acknowledged.items())
    print(f"\n{database}: {len(load.attempts)} requests, {len(load.acknowledged)} tickets; broken off and sent "
          f"again: {[(x.kind, round(x.started - kill, 3)) for x in broken]}")


@contextmanager
def tickets_locked(url: str):
    """Hold the database's lock that a ticket's insert waits for (reads go on), and yield how to tell that an insert
    is waiting on it: on PostgreSQL a table lock, seen in pg_stat_activity; an SQLite file's write lock cannot be
    asked who waits on it (None)."""
    if url.startswith("sqlite:///"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield None
            connection.execute("ROLLBACK")
        finally:
            connection.close()
        return
    from kb.helpdesk.db import make_engine

    engine = make_engine(url)

    def waiting() -> bool:  # a connection of its own: a transaction reads the statistics once
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                           "AND query ILIKE 'INSERT INTO tickets%'")).scalar() == 1
    try:
        with engine.connect() as lock:
            lock.execute(text("LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE"))
            yield waiting
            lock.rollback()  # the dead worker's transaction, let go, runs to its end uncommitted
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_worker_killed_while_filing_a_ticket_files_it_once_when_the_customer_retries(serve, portal_settings,
                                                                                       request, database):
    """The one worker not held by another request takes the ticket, whose insert waits on a lock the test holds;
    that worker is killed; its transaction never commits, and the retry with the same key files the ticket."""
    url = sqlite_database(portal_settings) if database == "sqlite" else postgres_database(request)
    server = serve(portal_settings.index_dir, url)
    customer = Visitor(server.base)
    assert sign_in(customer, CUSTOMERS[0], PASSWORD).status == 302
    slow = SlowRequest(server.base, server.env)  # holds one worker: the ticket goes to the other
    held = int(slow.started.read_text(encoding="utf-8"))
    [victim] = server.workers - {held}
    subject = "Filed while its worker died"
    body = json.dumps({"subject": subject, "description": "Paper jam in tray 2"})
    headers = {"Content-Type": "application/json", "Idempotency-Key": "killed-mid-insert"}
    outcome: list[object] = []

    def file() -> None:
        try:
            outcome.append(customer.request("POST", "/api/tickets", body=body, headers=headers).status)
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(exc)

    with tickets_locked(url) as insert_waiting:
        filing = threading.Thread(target=file)
        filing.start()
        wait_for(lambda: connections_held(victim, server.port), "the worker never took the ticket's request")
        if insert_waiting is not None:
            wait_for(insert_waiting, "the ticket's insert never waited on the lock")
        os.kill(victim, signal.SIGKILL)
        filing.join(timeout=60)
    assert len(outcome) == 1 and isinstance(outcome[0], (OSError, http.client.HTTPException)), outcome
    assert [s for _, s in stored_tickets(url) if s == subject] == []

    replacement = wait_for(lambda: server.workers - {held}, "the master started no replacement worker")
    assert victim not in replacement
    retried = customer.request("POST", "/api/tickets", body=body, headers=headers)  # answered by the new worker
    assert retried.status == 201, retried.text  # filed now: the killed request's insert was never committed
    again = customer.request("POST", "/api/tickets", body=body, headers=headers)
    assert again.status == 200 and again.headers["Idempotent-Replayed"] == "true"
    ref = json.loads(retried.text)["ref"]
    assert json.loads(again.text)["ref"] == ref
    assert [(r, s) for r, s in stored_tickets(url) if s == subject] == [(ref, subject)]
    assert slow.answer()[0] == 200
