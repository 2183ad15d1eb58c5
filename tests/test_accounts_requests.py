"""Anonymous requests (`anonymous_requests = on`): a visitor's ticket waits, invisible to the desk, until the
link mailed to the address given is followed."""
from __future__ import annotations

import secrets
from dataclasses import replace

import pytest

from tests.accounts import expire_links, freeze_signatures, last_link, outbox, user
from tests.portal import PASSWORD, add_people, file_ticket, make_app, post, sign_in, tickets

REQUEST = {"subject": "Printer offline", "description": "It says offline since Monday", "category": "printers"}


@pytest.fixture
def open_app(portal_index, portal_settings):
    app = make_app(replace(portal_settings, anonymous_requests="on"), portal_index[1])
    add_people(app)
    return app


def test_off_by_default_the_ticket_form_wants_a_sign_in(client):
    assert client.get("/tickets/new").status_code == 302
    assert post(client, "/tickets/new", {**REQUEST, "email": "x@y.example"}).status_code == 302


def test_a_visitor_files_a_request_that_enters_the_queue_once_confirmed(open_app):
    visitor = open_app.test_client()
    form = visitor.get("/tickets/new").get_data(as_text=True)
    assert 'name="email"' in form
    answer = post(visitor, "/tickets/new", {**REQUEST, "email": "walkin@nowhere.example"})
    assert answer.status_code == 200 and "we sent a link" in answer.get_data(as_text=True)
    assert tickets(open_app) == []  # held: not in the tickets, so not on the desk
    link = last_link(open_app, "walkin@nowhere.example", "request_confirm")
    assert visitor.get(link).status_code == 200 and tickets(open_app) == []  # a GET (a mail scanner) files nothing
    filed = post(visitor, link)
    assert filed.status_code == 200
    [ticket] = tickets(open_app)
    assert ticket.ref in filed.get_data(as_text=True) and ticket.subject == "Printer offline"
    assert post(visitor, link).status_code == 400 and len(tickets(open_app)) == 1  # once
    guest = user(open_app, "walkin@nowhere.example")
    assert guest is not None and not guest.active  # a guest: no sign-in
    assert sign_in(open_app.test_client(), "walkin@nowhere.example", "").status_code in (400, 401)


def test_a_confirmed_request_from_a_customer_address_is_theirs(open_app):
    visitor = open_app.test_client()
    post(visitor, "/tickets/new", {**REQUEST, "email": "ann@acme.example"})
    post(visitor, last_link(open_app, "ann@acme.example"))
    [ticket] = tickets(open_app)
    ann = open_app.test_client()
    sign_in(ann, "ann@acme.example")
    assert ticket.ref in ann.get("/tickets").get_data(as_text=True)


def test_the_answer_is_the_same_for_any_address(open_app, monkeypatch):
    freeze_signatures(monkeypatch)
    visitor = open_app.test_client()
    known = post(visitor, "/tickets/new", {**REQUEST, "email": "ann@acme.example", "idempotency_key": "k" * 20})
    unknown = post(visitor, "/tickets/new", {**REQUEST, "email": "zz@acme.example", "idempotency_key": "k" * 20})
    assert known.get_data() == unknown.get_data()


def test_bad_input_keeps_what_was_typed(open_app):
    visitor = open_app.test_client()
    bad = post(visitor, "/tickets/new", {**REQUEST, "email": "no address"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Your e-mail: this is not an e-mail address." in text
    assert 'value="no address"' in text and 'value="Printer offline"' in text
    assert not outbox(open_app)


def test_expired_and_forged_request_links_file_nothing(open_app):
    visitor = open_app.test_client()
    post(visitor, "/tickets/new", {**REQUEST, "email": "walkin@nowhere.example"})
    link = last_link(open_app, "walkin@nowhere.example")
    assert post(visitor, "/requests/" + secrets.token_urlsafe(32)).status_code == 400
    expire_links(open_app)
    assert post(visitor, link).status_code == 400
    assert tickets(open_app) == []


def test_signed_in_customers_file_as_before(open_app):
    ann = open_app.test_client()
    sign_in(ann, "ann@acme.example", PASSWORD)
    assert 'name="email"' not in ann.get("/tickets/new").get_data(as_text=True)
    ref = file_ticket(ann)
    assert [t.ref for t in tickets(open_app)] == [ref]
    assert not outbox(open_app, "ann@acme.example", "request_confirm")


def test_the_desk_shows_a_confirmed_request_from_a_guest(open_app):
    from kb.helpdesk.accounts import add_staff

    visitor = open_app.test_client()
    post(visitor, "/tickets/new", {**REQUEST, "email": "walkin@nowhere.example"})
    agent = open_app.test_client()
    with open_app.extensions["kb.db"].begin() as db:
        add_staff(db, "agent@desk.example", PASSWORD)
    sign_in(agent, "agent@desk.example")
    assert "Printer offline" not in agent.get("/desk/").get_data(as_text=True)
    post(visitor, last_link(open_app, "walkin@nowhere.example"))
    [ticket] = tickets(open_app)
    assert "Printer offline" in agent.get("/desk/").get_data(as_text=True)
    page = agent.get(f"/desk/tickets/{ticket.ref}")
    assert page.status_code == 200 and "walkin@nowhere.example" in page.get_data(as_text=True)


def test_a_guest_who_signs_up_later_keeps_their_tickets(open_app):
    from click.testing import CliRunner

    from kb.cli import cli

    CliRunner().invoke(cli, ["org", "domain", "add", "Acme", "acme.example", "--signup", "--database",
                             open_app.config["KB_SETTINGS"].database_url])
    visitor = open_app.test_client()
    post(visitor, "/tickets/new", {**REQUEST, "email": "walkin@acme.example"})
    post(visitor, last_link(open_app, "walkin@acme.example"))
    [ticket] = tickets(open_app)
    assert post(visitor, "/sign-up", {"email": "walkin@acme.example"}).status_code == 200
    link = last_link(open_app, "walkin@acme.example", "signup")
    new = "a brand new passphrase"
    assert post(visitor, link, {"name": "Walk In", "password": new, "confirm": new}).status_code == 302
    assert user(open_app, "walkin@acme.example").active
    assert ticket.ref in visitor.get("/tickets").get_data(as_text=True)
