"""CSRF, route by route: every rule of the app's url_map that takes POST, PUT, PATCH or DELETE (enumerated, so a
route added later is swept too) refuses a request without the session's form token, or with another session's,
from every role (whoever may use the route among them), and nothing in the database changes. The few routes that
take no form token are listed below with the reason, and each reason is checked."""
from __future__ import annotations

import pytest

from tests.portal import csrf_token
from tests.sweep import ROLES, client_for, fingerprint, make_world, paths, rules, unsafe_methods

REFUSAL = "did not come from this site"  # web/errors.py's answer to a missing or wrong form token

# Endpoint (or "blueprint." for all of a blueprint's) -> why it takes no form token.
EXEMPT = {
    "api_v1.": "the token API: authenticated by the Authorization header only; session cookies count for nothing "
               "there, so a cross-site request carries no credentials (checked below)",
    "api.": "the JSON API of the portal (suggest, search, tickets): its one POST takes application/json only, "
            "which a page on another site cannot send without a CORS preflight this app never answers "
            "(checked below)",
    "preferences.unsubscribe": "one-click unsubscribe (RFC 8058): a mail program's POST carries no form token; "
                               "the unguessable token in the address is what authorises it",
}


def exempt(endpoint: str) -> bool:
    return any(endpoint == name or (name.endswith(".") and endpoint.startswith(name)) for name in EXEMPT)


@pytest.fixture(scope="module")
def world(portal_index, module_database_url, tmp_path_factory):
    return make_world(portal_index, module_database_url, tmp_path_factory.mktemp("csrf"))


@pytest.fixture(scope="module")
def clients(world):
    return {role: client_for(world.app, role) for role in ROLES}


def test_every_state_changing_route_refuses_a_request_without_its_token(world, clients):
    app = world.app
    stranger = app.test_client()
    foreign_token = csrf_token(stranger)  # a valid token, of another browser's session
    swept, not_refused, changed = [], {}, []
    state = fingerprint(app)
    for rule in rules(app):
        methods = unsafe_methods(rule)
        if not methods or exempt(rule.endpoint):
            continue
        for path in paths(rule, world.values):
            for method in methods:
                swept.append(f"{method} {path}")
                for role, client in clients.items():
                    for label, data in (("no token", {}), ("another session's token", {"csrf_token": foreign_token})):
                        response = client.open(path, method=method, data=data)
                        if response.status_code != 400 or REFUSAL not in response.get_data(as_text=True):
                            not_refused[f"{method} {path} as {role}, {label}"] = response.status_code
            if fingerprint(app) != state:
                changed.append(path)
                state = fingerprint(app)
    assert not not_refused, not_refused
    assert not changed, changed
    assert len(swept) > 50  # the sweep did enumerate the app's routes
    assert "POST /sign-out" in swept and f"POST /desk/tickets/{world.values['ref']}/reply" in swept


def test_exempt_routes_are_exempt_for_their_stated_reason(world, clients):
    app = world.app
    unsafe = [(rule, method) for rule in rules(app) for method in unsafe_methods(rule) if exempt(rule.endpoint)]
    assert {rule.endpoint.split(".")[0] + "." for rule, _ in unsafe} >= {"api_v1.", "api."}
    for name in EXEMPT:  # each exemption still names a route that takes a POST
        assert any(exempt(rule.endpoint) and (rule.endpoint == name or rule.endpoint.startswith(name))
                   for rule, _ in unsafe), name
    before = fingerprint(app)
    # The token API: an agent's signed-in browser session (its cookie) opens nothing there.
    for rule, method in unsafe:
        if rule.endpoint.startswith("api_v1."):
            for path in paths(rule, world.values):
                response = clients["agent"].open(path, method=method, json={"body": "x", "status": "closed"})
                assert response.status_code == 401, (method, path)
    # The JSON API: what a form on another site can send (a form's three content types) files nothing.
    for content_type, body in (("application/x-www-form-urlencoded", "subject=Hi&description=There"),
                               ("multipart/form-data; boundary=x", "--x--\r\n"),
                               ("text/plain", '{"subject": "Hi", "description": "There"}')):
        response = clients["customer_a"].post("/api/tickets", data=body, content_type=content_type)
        assert response.status_code == 415, content_type
    # One-click unsubscribe: without the token of a real message, nothing happens.
    response = clients["customer_a"].post(f"/unsubscribe/{world.values['token']}",
                                          data={"List-Unsubscribe": "One-Click"})
    assert response.status_code in (400, 404)
    assert fingerprint(app) == before
