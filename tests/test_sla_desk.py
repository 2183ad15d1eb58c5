"""Priorities and SLA clocks on the desk and what customers see of them, through Flask's test client: who may change
a priority, the queue's column, filters and clocks, the ticket's clocks and breach, the customer's tracker and API."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.models import Ticket, utcnow
from kb.helpdesk.tickets import find_ticket
from tests.portal import PASSWORD, file_ticket, post, sign_in

AGENT, ADMIN, EDITOR = "agent@desk.example", "admin@desk.example", "editor@desk.example"


@pytest.fixture
def desk_app(app):
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
        add_staff(session, ADMIN, PASSWORD, "admin", "", "Ada")
        add_staff(session, EDITOR, PASSWORD, "editor", "")
    return app


def signed_in(app, email: str):
    client = app.test_client()
    if email:
        assert sign_in(client, email).status_code == 302
    return client


def stored(app, ref: str) -> Ticket:
    with app.extensions["kb.db"]() as db:
        return find_ticket(db, ref)


@pytest.fixture
def ref(desk_app):
    """A ticket filed by ann@acme.example through the portal: the rules predict P2 (she cannot work)."""
    return file_ticket(signed_in(desk_app, "ann@acme.example"), subject="Laptop",
                       description="I cannot work, the laptop does not start")


def test_filing_through_the_portal_predicts_the_priority_and_starts_the_clocks(desk_app, ref):
    ticket = stored(desk_app, ref)
    assert (ticket.priority, ticket.predicted_priority) == ("P2", "P2")
    assert ticket.first_response_due == ticket.created_at + timedelta(hours=4)  # the default targets, 24/7
    assert ticket.sla_due_at == ticket.first_response_due


@pytest.mark.parametrize("email, status", [("", 302), ("ann@acme.example", 404), ("meg@acme.example", 404),
                                           ("oz@other.example", 404), (EDITOR, 404), (AGENT, 302), (ADMIN, 302)])
def test_who_may_change_a_priority(desk_app, ref, email, status):
    client = signed_in(desk_app, email)
    response = post(client, f"/desk/tickets/{ref}/priority", {"priority": "P1"})
    assert response.status_code == status
    ticket = stored(desk_app, ref)
    if status == 302 and email:
        assert response.headers["Location"].endswith(f"/desk/tickets/{ref}#sla")
        assert (ticket.priority, ticket.predicted_priority) == ("P1", "P2")
        assert ticket.first_response_due == ticket.created_at + timedelta(hours=1)
        assert [(e.kind, e.body, e.author.email) for e in ticket.events if e.kind == "priority"] == \
            [("priority", "P2 → P1", email)]
    else:
        if not email:
            assert response.headers["Location"].startswith("/sign-in?next=/desk")
        assert ticket.priority == "P2" and all(e.kind != "priority" for e in ticket.events)


def test_a_bad_priority_is_refused_on_the_page_naming_the_field(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    response = post(agent, f"/desk/tickets/{ref}/priority", {"priority": "P0"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Priority" in page and 'id="new-priority"' in page
    assert stored(desk_app, ref).priority == "P2"
    assert post(agent, "/desk/tickets/KB-NOSUCH00/priority", {"priority": "P1"}).status_code == 404


def test_the_ticket_shows_the_prediction_both_clocks_and_a_breach(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    section = page[page.index('id="sla"'):page.index('id="category"')]
    assert "P2" in section and "outage words: “cannot work”" in section
    assert re.search(r"First response</dt>\s*<dd class=\"sla sla-running\">[23] h \d+ min left", section)
    assert "SLA breached" not in section
    with desk_app.extensions["kb.db"].begin() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.ref == ref))
        ticket.first_response_due = ticket.sla_due_at = utcnow() - timedelta(minutes=35, seconds=20)
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert re.search(r'<dd class="sla sla-breached breached"><strong>SLA breached:</strong> breached 3[5-9] min ago',
                     page)
    assert post(agent, f"/desk/tickets/{ref}/reply", {"body": "On my way", "action": "send"}).status_code == 302
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert re.search(r'<dd class="sla sla-late breached"><strong>SLA breached:</strong> met 3[5-9] min late', page)


def test_the_queue_shows_priority_and_clock_and_filters_by_them(desk_app, ref):
    toner = file_ticket(signed_in(desk_app, "bob@acme.example"), subject="Toner", description="Please order toner")
    agent = signed_in(desk_app, AGENT)
    page = agent.get("/desk/").get_data(as_text=True)
    row = re.search(rf'<tr data-ref="{ref}">.*?</tr>', page, re.DOTALL).group(0)
    assert '<span class="priority priority-P2">P2</span>' in row and re.search(r"[23] h \d+ min left", row)
    assert page.index(f'data-ref="{ref}"') < page.index(f'data-ref="{toner}"')  # less time left first
    only_p4 = agent.get("/desk/?priority=P4").get_data(as_text=True)
    assert f'data-ref="{toner}"' in only_p4 and f'data-ref="{ref}"' not in only_p4
    assert "No tickets match." in agent.get("/desk/?sla=breached").get_data(as_text=True)
    with desk_app.extensions["kb.db"].begin() as db:
        ticket = db.scalar(select(Ticket).where(Ticket.ref == toner))
        ticket.first_response_due = ticket.sla_due_at = utcnow() - timedelta(hours=2, minutes=10, seconds=20)
    breached = agent.get("/desk/?sla=breached").get_data(as_text=True)
    row = re.search(rf'<tr data-ref="{toner}">.*?</tr>', breached, re.DOTALL).group(0)
    assert f'data-ref="{ref}"' not in breached and "breached 2 h 10 min ago" in row and 'class="sla sla-breached' in row
    assert f'data-ref="{ref}"' not in agent.get("/desk/?sla=soon").get_data(as_text=True)
    for hostile in ("?priority=<script>", "?sla=%00", "?sort=' OR 1=1"):
        assert agent.get("/desk/" + hostile).status_code == 200, hostile


def test_customers_never_see_priorities_predictions_or_staff_events(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    assert post(agent, f"/desk/tickets/{ref}/priority", {"priority": "P1"}).status_code == 302
    assert post(agent, f"/desk/tickets/{ref}/reply", {"body": "Looking now", "action": "send"}).status_code == 302
    for email in ("ann@acme.example", "meg@acme.example"):
        customer = signed_in(desk_app, email)
        # (the ticket's own reference is random base32 and may hold "P1" or "P2"; it is not a priority)
        page = customer.get(f"/tickets/{ref}").get_data(as_text=True).replace(ref, "<ref>")
        assert "Looking now" in page
        for secret in ("P2 → P1", "Priority", "P1", "P2", "outage words", "SLA"):
            assert secret not in page, (email, secret)
        answer = customer.get(f"/api/tickets/{ref}")
        data = answer.get_json()
        assert answer.status_code == 200 and [e["kind"] for e in data["events"]] == ["submitted", "reply"]
        shown = json.dumps(data).replace(ref, "<ref>")
        assert "P1" not in shown and "P2" not in shown
        assert "P1" not in customer.get("/api/tickets").get_data(as_text=True).replace(ref, "<ref>")
