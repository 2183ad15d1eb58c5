"""Internal notes: staff write them on the desk and read them in the ticket's history; no customer path shows or
sends one (the tracker, its API, the ticket lists, e-mail, drafts), and a note is no reply to the ticket's clocks."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb.drafts import draft_from_ticket
from kb.errors import TicketError
from kb.helpdesk.accounts import add_staff
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import User
from kb.helpdesk.notes import EVENT_NOTE, add_note, notes_of, staff_history
from kb.helpdesk.tickets import find_ticket, ticket_dict, tracker
from kb.helpdesk.waiting import waiting_tickets
from tests.portal import PASSWORD, file_ticket, post, sign_in
from tests.test_mail_notifications import ADMIN, AGENT, mail_app

MARKER = "NOTE-MARKER-7f3a9c"  # in every note: no customer answer may hold it
EDITOR = "editor@desk.example"


@pytest.fixture
def app(portal_index, portal_settings):
    app = mail_app(portal_index, portal_settings)
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, EDITOR, PASSWORD, "editor", "", "Eve")
    return app


def client_of(app, email: str | None):
    client = app.test_client()
    if email:
        assert sign_in(client, email).status_code == 302
    return client


@pytest.fixture
def ref(app):
    return file_ticket(client_of(app, "ann@acme.example"), subject="Printer offline", description="it says offline")


def note(client, ref: str, text: str):
    return post(client, f"/desk/tickets/{ref}/note", {"note": text})


def test_an_agent_adds_a_note_that_staff_read_in_the_history(app, ref):
    agent = client_of(app, AGENT)
    response = note(agent, ref, f"Called the customer <b>{MARKER}</b>")
    assert response.status_code == 302 and response.headers["Location"] == f"/desk/tickets/{ref}#history"
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    history = page[page.index('id="history"'):page.index('id="note"')]
    assert '<li class="event note by-agent">' in history and "Internal note" in history
    assert f"Called the customer &lt;b&gt;{MARKER}&lt;/b&gt;" in history and "by agent@desk.example" in history
    # Admins read it too.
    assert MARKER in client_of(app, ADMIN).get(f"/desk/tickets/{ref}").get_data(as_text=True)


def test_an_empty_note_names_its_field_and_keeps_the_page(app, ref):
    agent = client_of(app, AGENT)
    response = note(agent, ref, "   ")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Internal note: please fill this in." in page and 'id="note-body-error"' in page
    too_long = note(agent, ref, "x" * 20001)
    assert too_long.status_code == 400 and "at most" in too_long.get_data(as_text=True)
    assert agent.post(f"/desk/tickets/{ref}/note", data={"note": "no token"}).status_code == 400
    with app.extensions["kb.db"]() as db:
        assert [e.kind for e in find_ticket(db, ref).events] == ["submitted"]


def test_only_ticket_staff_may_write_notes(app, ref):
    path = f"/desk/tickets/{ref}/note"
    anonymous = post(app.test_client(), path, {"note": "x"})
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/sign-in")
    for email in ("ann@acme.example", "meg@acme.example", "oz@other.example", EDITOR):
        assert note(client_of(app, email), ref, "x").status_code == 404, email
    assert note(client_of(app, AGENT), "KB-00000000", "x").status_code == 404
    assert note(client_of(app, ADMIN), ref, "by the admin").status_code == 302
    with app.extensions["kb.db"]() as db:
        ticket = find_ticket(db, ref)
        assert [(e.kind, e.author.email) for e in staff_history(db, ticket)][1:] == [(EVENT_NOTE, ADMIN)]
        assert [e.kind for e in ticket.events] == ["submitted"]  # notes are never among a ticket's events


def test_customers_never_see_a_note_on_any_path(app, ref):
    agent = client_of(app, AGENT)
    assert note(agent, ref, f"Internal: {MARKER}").status_code == 302
    # The reply and the status change after it do reach the customer.
    sent = post(agent, f"/desk/tickets/{ref}/reply", {"body": "Please restart the printer.", "action": "send",
                                                       "status": "waiting_on_customer"})
    assert sent.status_code == 302
    assert note(agent, ref, f"Second {MARKER}").status_code == 302
    for email in ("ann@acme.example", "meg@acme.example"):  # the customer and their organisation's manager
        customer = client_of(app, email)
        page = customer.get(f"/tickets/{ref}").get_data(as_text=True)
        assert "Please restart the printer." in page and MARKER not in page and "Internal note" not in page
        assert 'class="event note' not in page
        assert MARKER not in customer.get("/tickets").get_data(as_text=True)
        listed = customer.get("/api/tickets")
        assert listed.status_code == 200 and MARKER not in listed.get_data(as_text=True)
        answer = customer.get(f"/api/tickets/{ref}")
        assert answer.status_code == 200 and MARKER not in answer.get_data(as_text=True)
        assert [e["kind"] for e in answer.get_json()["events"]] == ["submitted", "reply", "status"]
    with app.extensions["kb.db"]() as db:
        mail = list(db.scalars(select(OutboxMessage)))
        assert {m.kind for m in mail} >= {"ticket_received", "agent_reply"}
        assert not [m.kind for m in mail if MARKER in m.subject + m.text_body + m.html_body + json.dumps(m.headers)]
        ticket = find_ticket(db, ref)
        assert MARKER not in json.dumps(ticket_dict(ticket))
        assert [e.kind for e in ticket.customer_events] == ["submitted", "reply", "status"]
        assert [e.kind for e in ticket.events] == ["submitted", "reply", "status"]
        assert [e.kind for e in staff_history(db, ticket)] == ["submitted", "note", "reply", "status", "note"]
        assert [MARKER in n.body for n in notes_of(db, ticket)] == [True, True]
        assert [s.status for s in tracker(ticket) if s.reached_at] == ["submitted", "waiting_on_customer"]
        # A draft article written from the ticket (which editors may publish) takes agents' replies, not notes.
        written = draft_from_ticket(ticket, app.config["KB_SETTINGS"])
        text = written.path.read_text(encoding="utf-8")
        assert "Please restart the printer." in text and MARKER not in text


def test_a_note_sends_no_mail(app, ref):
    with app.extensions["kb.db"]() as db:
        before = len(list(db.scalars(select(OutboxMessage))))
    assert note(client_of(app, AGENT), ref, MARKER).status_code == 302
    with app.extensions["kb.db"]() as db:
        assert len(list(db.scalars(select(OutboxMessage)))) == before


def test_a_note_is_no_reply_to_the_tickets_clocks(app, ref):
    agent = client_of(app, AGENT)
    assert post(agent, f"/desk/tickets/{ref}/status", {"status": "waiting_on_customer"}).status_code == 302
    with app.extensions["kb.db"].begin() as db:
        ticket = find_ticket(db, ref)
        ticket.updated_at -= timedelta(days=3)  # waiting since three days
        waited_since, customer_at = ticket.updated_at, ticket.last_customer_at
        add_note(db, ticket, db.scalar(select(User).where(User.email == AGENT)), MARKER)
    with app.extensions["kb.db"]() as db:
        ticket = find_ticket(db, ref)
        assert (ticket.updated_at, ticket.last_customer_at) == (waited_since, customer_at)
        # still due its waiting reminder: the note did not restart the clock as a reply would
        assert ref in [t.ref for t in waiting_tickets(db, waited_since + timedelta(days=1))]


def test_add_note_refuses_customers_and_empty_text(app, ref):
    with app.extensions["kb.db"]() as db:
        ticket = find_ticket(db, ref)
        with pytest.raises(TicketError):
            add_note(db, ticket, ticket.customer, "x")
        with pytest.raises(TicketError):
            add_note(db, ticket, db.scalar(select(User).where(User.email == AGENT)), " \n")
