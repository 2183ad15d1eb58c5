"""/api/v1 over real HTTP (waitress on loopback, `urllib`): a script's list → reply → status with a token, and the
JSON errors as a client receives them."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from kb.helpdesk.accounts import add_staff, find_user
from kb.helpdesk.api_tokens import create_token
from kb.helpdesk.tickets import create_ticket, find_ticket
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
AGENT = "phone@desk.example"


def fetch(url: str, token: str | None, method: str = "GET", body: dict | None = None) -> tuple[int, dict]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture(scope="module")
def served(live):
    """The live portal with an agent, a write and a read token, and one ticket of ann's: (base, tokens, ref)."""
    app, base = live
    with app.extensions["kb.db"].begin() as db:
        agent = add_staff(db, AGENT, PASSWORD, "agent", "general", "Phone system")
        write = create_token(db, agent, "write", "integration: phone system")[1]
        read = create_token(db, agent, "read")[1]
        ref = create_ticket(db, find_user(db, "ann@acme.example"), "VPN drops", "Every ten minutes").ref
    return app, base + "/api/v1", {"write": write, "read": read}, ref


def test_a_script_lists_replies_and_resolves(served):
    app, api, tokens, ref = served
    status, listed = fetch(f"{api}/tickets?status=submitted", tokens["write"])
    assert status == 200 and ref in [t["ref"] for t in listed["tickets"]]
    status, replied = fetch(f"{api}/tickets/{ref}/reply", tokens["write"], "POST", {"body": "Please update the client"})
    assert status == 201 and replied["event"]["body"] == "Please update the client"
    status, ticket = fetch(f"{api}/tickets/{ref}/status", tokens["write"], "POST", {"status": "resolved"})
    assert status == 200 and ticket["status"] == "resolved"
    with app.extensions["kb.db"]() as db:
        stored = find_ticket(db, ref)
        assert stored.status == "resolved"
        assert [(e.kind, e.author.email) for e in stored.events[1:]] == [("reply", AGENT), ("status", AGENT)]


def test_errors_reach_the_client_as_json(served):
    _, api, tokens, ref = served
    assert fetch(f"{api}/tickets", None) == (401, {"error": {
        "code": "unauthorized", "message": "send a personal API token: Authorization: Bearer <token>"}})
    status, body = fetch(f"{api}/tickets/{ref}/reply", tokens["read"], "POST", {"body": "hi"})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = fetch(f"{api}/tickets/KB-00000000", tokens["read"])
    assert status == 404 and body["error"]["code"] == "not_found"
    status, document = fetch(f"{api}/openapi.json", None)
    assert status == 200 and f"/api/v1/tickets/{{ref}}/reply" in document["paths"]
