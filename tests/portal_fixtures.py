"""Fixtures for the portal tests: one shared index of the small help center, a fresh SQLite file per test,
and customers in two organisations. Import the fixtures into a test module to use them."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from indexer.build import build_index
from kb.helpdesk.accounts import add_organisation, add_user
from kb.config import Settings
from kb.helpdesk.models import Ticket
from search.service import SearchService
from tests.conftest import SMALL_CENTER, write_tree
from tests.fakes import HashingEncoder
from web import create_app

PASSWORD = "correct horse battery"
# email -> (organisation, role)
PEOPLE = {
    "ann@acme.example": ("Acme", "member"),
    "bob@acme.example": ("Acme", "member"),
    "meg@acme.example": ("Acme", "manager"),
    "oz@other.example": ("Other", "manager"),
}


@pytest.fixture(scope="session")
def portal_index(tmp_path_factory) -> tuple[Settings, SearchService]:
    """The small help center built once with the fake encoder; the service is shared read-only."""
    root = tmp_path_factory.mktemp("portal")
    settings = Settings(articles_dir=write_tree(root / "articles", SMALL_CENTER), index_dir=root / "index",
                        embedding_model="fake-hashing")
    encoder = HashingEncoder()
    build_index(settings, encoder)
    return settings, SearchService.load(settings.index_dir, settings, encoder)


@pytest.fixture
def portal_settings(portal_index, tmp_path: Path) -> Settings:
    return replace(portal_index[0], database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", secret_key="k" * 32,
                   secret_key_file=tmp_path / "secret_key")


def make_app(settings: Settings, service: SearchService):
    app = create_app(settings, service)
    app.testing = True
    return app


def add_people(app) -> None:
    with app.extensions["kb.db"].begin() as session:
        for org in sorted({org for org, _ in PEOPLE.values()}):
            add_organisation(session, org)
        for email, (org, role) in PEOPLE.items():
            add_user(session, email, PASSWORD, org, role)


@pytest.fixture
def app(portal_index, portal_settings):
    app = make_app(portal_settings, portal_index[1])
    add_people(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)


def post(client, path: str, data: dict | None = None, **kwargs):
    """A form POST with the session's CSRF token, as a browser would send it."""
    return client.post(path, data={"csrf_token": csrf_token(client), **(data or {})}, **kwargs)


def sign_in(client, email: str, password: str = PASSWORD):
    return post(client, "/sign-in", {"email": email, "password": password})


def file_ticket(client, subject: str = "Printer offline", description: str = "It says offline since Monday",
                category: str = "printers") -> str:
    """File a ticket through the form; returns its reference."""
    response = post(client, "/tickets/new", {"subject": subject, "description": description, "category": category})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"].rsplit("/", 1)[1]


def tickets(app) -> list[Ticket]:
    """Every ticket in the app's database, oldest first."""
    with app.extensions["kb.db"]() as db:
        return list(db.scalars(select(Ticket).order_by(Ticket.id)))


@pytest.fixture
def ann(client):
    """The test client signed in as ann, a member of Acme."""
    sign_in(client, "ann@acme.example")
    return client
