"""Helpers for the portal tests: the people of the two organisations and what a browser does with a form
(the fixtures that use them are in tests/conftest.py)."""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import Iterator

from jinja2 import BytecodeCache
from sqlalchemy import select

from kb.helpdesk.accounts import add_organisation, add_user
from kb.config import Settings
from kb.helpdesk.models import Ticket
from search.service import SearchService
from web import create_app

PASSWORD = "correct horse battery"
# email -> (organisation, role)
PEOPLE = {
    "ann@acme.example": ("Acme", "member"),
    "bob@acme.example": ("Acme", "member"),
    "meg@acme.example": ("Acme", "manager"),
    "oz@other.example": ("Other", "manager"),
}


class SharedTemplates(BytecodeCache):
    """Compiled templates kept for every app of the test process: each test's app would otherwise lex, parse and
    compile every template it renders again (a quarter of a desk test's time). A bucket checks its template's
    source checksum, so an edited template is compiled anew."""

    def __init__(self) -> None:
        self.codes: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self.codes.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.codes[bucket.key] = bucket.bytecode_to_string()


TEMPLATES = SharedTemplates()


def make_app(settings: Settings, service: SearchService):
    app = create_app(settings, service)
    app.testing = True
    app.jinja_env.bytecode_cache = TEMPLATES
    return app


@contextmanager
def serving(app, port: int = 0, threads: int = 4) -> Iterator[int]:
    """`app` served by waitress on a loopback port (0: a free one) from a thread of this process: the port. On
    leaving, the serving thread closes every socket itself, between two of its select() calls (closed from another
    thread, a socket could vanish under a select() in progress: EBADF there); its loop then ends, and the task
    threads are stopped."""
    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=port, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield server.effective_port
    finally:
        server.trigger.pull_trigger(lambda: [channel.close() for channel in list(server._map.values())])
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
    assert not thread.is_alive(), "the portal's server did not stop"


def add_people(app) -> None:
    with app.extensions["kb.db"].begin() as session:
        for org in sorted({org for org, _ in PEOPLE.values()}):
            add_organisation(session, org)
        for email, (org, role) in PEOPLE.items():
            add_user(session, email, PASSWORD, org, role)


def csrf_token(client, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def post(client, path: str, data: dict | None = None, **kwargs):
    """A form POST with the session's CSRF token, as a browser would send it."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def sign_in(client, email: str, password: str = PASSWORD):
    return post(client, "/sign-in", {"email": email, "password": password})


def file_ticket(client, subject: str = "Printer offline", description: str = "It says offline since Monday",
                category: str = "printers", **fields: str) -> str:
    """File a ticket through the form (with any further `fields`, e.g. the hidden ones); returns its reference."""
    response = post(client, "/tickets/new", {"subject": subject, "description": description, "category": category,
                                             **fields})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def tickets(app) -> list[Ticket]:
    """Every ticket in the app's database, oldest first."""
    with app.extensions["kb.db"]() as db:
        return list(db.scalars(select(Ticket).order_by(Ticket.id)))
