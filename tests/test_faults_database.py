"""What a database fault costs: nothing acknowledged is lost, nothing answers 500.

The portal runs on a real PostgreSQL server (tests/conftest.py `postgres_server`) behind waitress on loopback.
Clients file tickets over HTTP (the API and the form) while the server is restarted (`pg_ctl restart -m fast`);
while it is stopped every page answers 503 in the interface language and the API a JSON 503, both with
Retry-After; once it is back the portal serves again by itself.
"""
from __future__ import annotations

import http.client
import json
import re
import threading
import time
import uuid
from dataclasses import replace
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from kb.helpdesk.models import Ticket
from tests.portal import PASSWORD, add_people, make_app, serving

pytestmark = pytest.mark.slow

CUSTOMERS = ("ann@acme.example", "bob@acme.example")
CLIENT_SECONDS = 20  # the longest a load loop runs, whatever happens
REQUEST_TIMEOUT = 30


class Browser:
    """A cookie-keeping HTTP client on loopback that never follows redirects."""

    def __init__(self, port: int, lang: str = "en") -> None:
        self.port, self.lang = port, lang
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
                ) -> tuple[int, dict[str, str], str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            sent = {"Accept-Language": self.lang, **(headers or {})}
            if self.cookies:
                sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            text = response.read().decode("utf-8", "replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, {k.lower(): v for k, v in response.getheaders()}, text
        finally:
            connection.close()

    def get(self, path: str, **headers: str) -> tuple[int, dict[str, str], str]:
        return self.request("GET", path, headers=headers)

    def token(self, path: str) -> str:
        status, _, page = self.get(path)
        assert status == 200, (path, status, page[:300])
        return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)

    def post_form(self, path: str, fields: dict, token_from: str) -> tuple[int, dict[str, str], str]:
        body = urlencode({"csrf_token": self.token(token_from), **fields}).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def sign_in(self, email: str) -> None:
        status, headers, _ = self.post_form("/sign-in", {"email": email, "password": PASSWORD}, "/sign-in")
        assert status == 302, status


@pytest.fixture(scope="module")
def served(portal_index, postgres_server, tmp_path_factory):
    """The portal on the PostgreSQL server, served by waitress on a free loopback port: (app, port, server)."""
    settings, service = portal_index
    folder = tmp_path_factory.mktemp("faults-db")
    settings = replace(settings, database_url=postgres_server.url, secret_key="k" * 32,
                       secret_key_file=folder / "key", attachments_dir=folder / "attachments",
                       rate_limit_tickets="10000/hour", rate_limit_sign_in="1000/minute",
                       rate_limit_views="10000/minute", rate_limit_search="10000/minute",
                       analytics="off")  # no writer thread of its own: the connection killed is the request's
    app = make_app(settings, service)
    app.testing = False  # errors are answered as in production, not raised into the test
    add_people(app)
    with serving(app, threads=8) as port:
        yield app, port, postgres_server
    app.extensions["kb.engine"].dispose()


def stored_refs(app) -> set[str]:
    with app.extensions["kb.db"]() as db:
        return set(db.scalars(select(Ticket.ref)))


def wait_until_serving(browser: Browser, path: str = "/api/tickets", seconds: float = 30.0) -> int:
    """Ask `path` until it answers 200; how many requests that took (the first success included)."""
    deadline = time.monotonic() + seconds
    tries = 0
    while time.monotonic() < deadline:
        tries += 1
        status, _, _ = browser.get(path)
        if status == 200:
            return tries
        time.sleep(0.2)
    raise AssertionError(f"{path} still failing {seconds} s after the database came back")


class Filer(threading.Thread):
    """A customer filing tickets in a loop, alternately through the API and the form, until told to stop (or
    CLIENT_SECONDS have passed); records every answer and every acknowledged ticket."""

    def __init__(self, port: int, email: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.browser = Browser(port)
        self.browser.sign_in(email)
        self.stop = stop
        self.statuses: list[tuple[str, int, str]] = []
        self.acknowledged: set[str] = set()
        self.failures: list[str] = []

    def _api(self, n: int) -> None:
        body = json.dumps({"subject": f"Printer {n}", "description": "Offline again"}).encode()
        status, _, text = self.browser.request("POST", "/api/tickets", body, {
            "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
        self.statuses.append(("api", status, text[:200]))
        if status == 201:
            self.acknowledged.add(json.loads(text)["ref"])

    def _form(self, n: int) -> None:
        status, _, page = self.browser.get("/tickets/new")
        self.statuses.append(("form page", status, page[:200]))
        if status != 200:
            return
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', page).group(1)
        body = urlencode({"csrf_token": token, "idempotency_key": key, "subject": f"VPN {n}",
                          "description": "No tunnel", "category": ""}).encode()
        status, headers, text = self.browser.request("POST", "/tickets/new", body,
                                                     {"Content-Type": "application/x-www-form-urlencoded"})
        self.statuses.append(("form", status, text[:200]))
        if status == 302 and "/tickets/" in headers.get("location", ""):
            self.acknowledged.add(headers["location"].rstrip("/").rsplit("/", 1)[1])

    def run(self) -> None:
        deadline = time.monotonic() + CLIENT_SECONDS
        n = 0
        while not self.stop.is_set() and time.monotonic() < deadline:
            n += 1
            try:
                (self._api if n % 2 else self._form)(n)
            except (OSError, http.client.HTTPException) as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")


def test_tickets_filed_across_a_database_restart_are_all_kept(served):
    app, port, database = served
    before = stored_refs(app)
    stop = threading.Event()
    filers = [Filer(port, email, stop) for email in CUSTOMERS]
    for filer in filers:
        filer.start()
    time.sleep(1.5)  # filing under way
    database.restart("fast")
    time.sleep(1.5)  # and going on after
    stop.set()
    for filer in filers:
        filer.join(timeout=CLIENT_SECONDS + REQUEST_TIMEOUT)
    statuses = [s for f in filers for s in f.statuses]
    assert not [f for filer in filers for f in filer.failures]
    assert not [s for s in statuses if not (200 <= s[1] < 400 or s[1] == 503)], "answers other than 2xx, 3xx, 503"
    acknowledged = set().union(*(f.acknowledged for f in filers))
    assert acknowledged and not acknowledged - (stored_refs(app) - before), "acknowledged tickets missing"
    assert wait_until_serving(filers[0].browser) >= 1
    status, _, text = filers[0].browser.request(
        "POST", "/api/tickets", json.dumps({"subject": "After", "description": "the restart"}).encode(),
        {"Content-Type": "application/json"})
    assert status == 201 and json.loads(text)["ref"] in stored_refs(app)


PAGES = ("/", "/search?q=printer", "/articles/printer-offline", "/tickets", "/tickets/new", "/contact",
         "/community", "/account")


def test_a_stopped_database_is_a_503_everywhere_and_the_portal_recovers_by_itself(served):
    app, port, database = served
    russian, api = Browser(port, "ru"), Browser(port)
    russian.sign_in("ann@acme.example")
    api.sign_in("bob@acme.example")
    assert {path: russian.get(path)[0] for path in PAGES} == {path: 200 for path in PAGES}
    database.stop("fast")
    try:
        for browser in (russian, Browser(port, "ru")):  # signed in, and a visitor
            for path in PAGES:
                status, headers, page = browser.get(path)
                if status in (200, 302):  # a page that needs no database (the search service is in memory)
                    continue
                assert status == 503, (path, status, page[:300])
                assert int(headers["retry-after"]) > 0 and headers["content-type"].startswith("text/html")
                assert "Временно недоступно" in page and "Traceback" not in page, path
        for method, path, body in (("GET", "/api/tickets", None),
                                   ("POST", "/api/tickets", b'{"subject": "s", "description": "d"}')):
            status, headers, text = api.request(method, path, body, {"Content-Type": "application/json"})
            assert status == 503 and int(headers["retry-after"]) > 0, (path, status, text[:300])
            assert headers["content-type"] == "application/json" and json.loads(text)["error"]
        token = "kb_0123abcd_" + "A" * 43  # well formed: only the database can tell whether it is valid
        status, headers, text = api.request("GET", "/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
        assert status == 503 and int(headers["retry-after"]) > 0, (status, text[:300])
        assert json.loads(text)["error"]["message"]  # the token API's own error shape, not "invalid token"
        page = russian.get("/tickets")[2]  # a 503 page, with the form token as every page has
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        status, headers, text = russian.request(
            "POST", "/tickets/new", urlencode({"csrf_token": token, "subject": "s", "description": "d"}).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 503 and "Временно недоступно" in text
    finally:
        database.start()
    assert wait_until_serving(api) >= 1
    for path in PAGES:
        assert russian.get(path)[0] == 200, path
    status, _, text = api.request("POST", "/api/tickets", b'{"subject": "Back", "description": "again"}',
                                  {"Content-Type": "application/json"})
    assert status == 201 and json.loads(text)["ref"] in stored_refs(app)


class ConnectionKiller:
    """Ends the server process of the app's own connection, once, at a chosen moment: before the statement that
    inserts a ticket is sent, or before a COMMIT is."""

    def __init__(self, app, database, moment: str) -> None:
        self.engine, self.database, self.moment = app.extensions["kb.engine"], database, moment
        self.killed = 0

    def _kill(self, connection) -> None:
        import psycopg

        pid = connection.connection.dbapi_connection.info.backend_pid
        with psycopg.connect(f"host=127.0.0.1 port={self.database.port} user=kb dbname=postgres",
                             autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))  # returns once the process is gone
        self.killed += 1

    def _before_insert(self, connection, _cursor, statement, *_args) -> None:
        if not self.killed and statement.startswith("INSERT INTO tickets"):
            self._kill(connection)

    def _before_commit(self, connection) -> None:
        if not self.killed and connection.in_transaction():
            self._kill(connection)

    def __enter__(self) -> "ConnectionKiller":
        from sqlalchemy import event

        if self.moment == "insert":
            event.listen(self.engine, "before_cursor_execute", self._before_insert)
        else:
            event.listen(self.engine, "commit", self._before_commit)
        return self

    def __exit__(self, *_exc) -> None:
        from sqlalchemy import event

        if self.moment == "insert":
            event.remove(self.engine, "before_cursor_execute", self._before_insert)
        else:
            event.remove(self.engine, "commit", self._before_commit)


def count_subject(app, subject: str) -> int:
    with app.extensions["kb.db"]() as db:
        return len(db.scalars(select(Ticket.id).where(Ticket.subject == subject)).all())


def test_a_connection_lost_before_anything_was_committed_is_tried_once_more(served):
    app, port, database = served
    customer = Browser(port)
    customer.sign_in("ann@acme.example")
    body = json.dumps({"subject": "Lost before the insert", "description": "d"}).encode()
    with ConnectionKiller(app, database, "insert") as killer:
        status, _, text = customer.request("POST", "/api/tickets", body, {
            "Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex})
    assert killer.killed == 1
    assert status == 201, text[:300]
    assert json.loads(text)["ref"] in stored_refs(app) and count_subject(app, "Lost before the insert") == 1


def test_a_connection_lost_at_the_commit_is_not_done_again_and_the_client_may_retry(served):
    app, port, database = served
    customer = Browser(port)
    customer.sign_in("ann@acme.example")
    body = json.dumps({"subject": "Lost at the commit", "description": "d"}).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    with ConnectionKiller(app, database, "commit") as killer:
        status, answered, text = customer.request("POST", "/api/tickets", body, headers)
    assert killer.killed == 1
    assert status == 503 and int(answered["retry-after"]) > 0 and json.loads(text)["error"]
    assert count_subject(app, "Lost at the commit") == 0  # the COMMIT never reached the server
    status, _, text = customer.request("POST", "/api/tickets", body, headers)  # the client's retry, same key
    assert status == 201 and count_subject(app, "Lost at the commit") == 1
