"""/api/v1's desk work on a ticket: internal notes (never shown to the customer), owners, priorities, and the group
restriction (`desk_restrict_to_groups`), which holds for tokens as it does on the desk."""
from __future__ import annotations

from dataclasses import replace

import pytest

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.tickets import find_ticket
from tests.portal import PASSWORD, add_people, file_ticket, make_app, sign_in
from tests.test_api_v1 import ADMIN, AGENT, api_app, call, issue, ref, tokens  # noqa: F401  (fixtures)

MARKER = "note-7f3a-only-for-staff"
BEA = "bea@desk.example"


def staff_events(app, token: str, ref: str) -> list[dict]:
    response = call(app, "GET", f"/tickets/{ref}", token)
    assert response.status_code == 200
    return response.get_json()["events"]


def test_a_note_is_in_the_staff_history_and_nowhere_the_customer_looks(api_app, tokens, ref):
    with api_app.extensions["kb.db"]() as db:
        mails_before = db.query(OutboxMessage).count()
    response = call(api_app, "POST", f"/tickets/{ref}/note", tokens["write"], {"body": f"Spooler restarted {MARKER}"})
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["event"]["kind"] == "note"
    assert [e["kind"] for e in staff_events(api_app, tokens["read"], ref)] == ["submitted", "note"]
    with api_app.extensions["kb.db"]() as db:
        assert db.query(OutboxMessage).count() == mails_before  # nobody is e-mailed
    customer = api_app.test_client()
    assert sign_in(customer, "ann@acme.example").status_code == 302
    for path in (f"/tickets/{ref}", f"/api/tickets/{ref}", "/api/tickets", "/tickets"):
        page = customer.get(path)
        assert page.status_code == 200 and MARKER not in page.get_data(as_text=True), path


def test_an_empty_note_is_refused_naming_the_field(api_app, tokens, ref):
    response = call(api_app, "POST", f"/tickets/{ref}/note", tokens["write"], {"body": "   "})
    assert response.status_code in (400, 422)
    assert response.get_json()["error"]["field"] == "body"


def test_owner_by_address_then_nobody(api_app, tokens, ref):
    given = call(api_app, "POST", f"/tickets/{ref}/owner", tokens["admin"], {"owner": AGENT})
    assert given.status_code == 200 and given.get_json()["owner"]["email"] == AGENT
    assigned = [e for e in staff_events(api_app, tokens["read"], ref) if e["kind"] == "assigned"]
    assert assigned[-1]["owner_from"] is None and assigned[-1]["owner_to"]["email"] == AGENT
    freed = call(api_app, "POST", f"/tickets/{ref}/owner", tokens["admin"], {"owner": ""})
    assert freed.status_code == 200 and freed.get_json()["owner"] is None
    with api_app.extensions["kb.db"]() as db:
        assert find_ticket(db, ref).owner_id is None


@pytest.mark.parametrize("owner", ["nobody@nowhere.example", "ann@acme.example"])
def test_an_owner_who_cannot_work_tickets_is_refused(api_app, tokens, ref, owner):
    response = call(api_app, "POST", f"/tickets/{ref}/owner", tokens["write"], {"owner": owner})
    assert response.status_code == 422 and response.get_json()["error"]["field"] == "owner"
    with api_app.extensions["kb.db"]() as db:
        assert find_ticket(db, ref).owner_id is None


def test_priority_moves_the_due_times(api_app, tokens, ref):
    before = call(api_app, "GET", f"/tickets/{ref}", tokens["read"]).get_json()
    response = call(api_app, "POST", f"/tickets/{ref}/priority", tokens["write"], {"priority": "P1"})
    after = response.get_json()
    assert response.status_code == 200 and after["priority"] == "P1"
    assert after["first_response_due"] and after["first_response_due"] <= before["first_response_due"]
    assert [e["body"] for e in after["events"] if e["kind"] == "priority"] == [f"{before['priority']} → P1"]
    assert call(api_app, "POST", f"/tickets/{ref}/priority", tokens["write"],
                {"priority": "P9"}).status_code in (400, 422)


@pytest.fixture
def restricted(portal_index, portal_settings):
    app = make_app(replace(portal_settings, desk_restrict_to_groups=True), portal_index[1])
    add_people(app)
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general", "Alex")
        add_staff(db, BEA, PASSWORD, "agent", "billing", "Bea")
    return app


def test_with_the_group_restriction_another_groups_ticket_does_not_exist_for_a_token(restricted):
    client = restricted.test_client()
    assert sign_in(client, "ann@acme.example").status_code == 302
    ref = file_ticket(client, subject="Printer offline", description="It says offline since Monday")
    with restricted.extensions["kb.db"]() as db:
        group = find_ticket(db, ref).agent_group
    own, other = (AGENT, BEA) if group == "general" else (BEA, AGENT)
    mine, theirs = issue(restricted, own, "write"), issue(restricted, other, "write")
    assert ref in [t["ref"] for t in call(restricted, "GET", "/tickets", mine).get_json()["tickets"]]
    assert ref not in [t["ref"] for t in call(restricted, "GET", "/tickets", theirs).get_json()["tickets"]]
    for method, path, body in (("GET", f"/tickets/{ref}", None), ("POST", f"/tickets/{ref}/note", {"body": "x"}),
                               ("POST", f"/tickets/{ref}/reply", {"body": "x"}),
                               ("POST", f"/tickets/{ref}/priority", {"priority": "P1"})):
        assert call(restricted, method, path, theirs, body).status_code == 404, path
    assert call(restricted, "GET", f"/tickets/{ref}", mine).status_code == 200
