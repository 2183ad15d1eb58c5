"""/api/v1 through Flask's test client: bearer tokens only, scopes, every endpoint's permission matrix, JSON errors,
tickets (list, read, reply, status) and articles (list, read, search), and the OpenAPI document."""
from __future__ import annotations

import json
import re

import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from kb.helpdesk.accounts import add_staff, find_user
from kb.helpdesk.api_tokens import create_token, revoke_token
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import IN_PROGRESS, RESOLVED, STATUSES, WAITING
from kb.helpdesk.tickets import find_ticket
from tests.portal import PASSWORD, file_ticket, sign_in
from web.api_v1 import API, PREFIX
from web.api_v1_spec import openapi_path

AGENT, ADMIN, EDITOR = "agent@desk.example", "admin@desk.example", "editor@desk.example"


@pytest.fixture
def api_app(app):
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
        add_staff(session, ADMIN, PASSWORD, "admin", "", "Ada")
        add_staff(session, EDITOR, PASSWORD, "editor", "", "Ed")
    return app


def issue(app, email: str, scope: str = "read", name: str = "") -> str:
    with app.extensions["kb.db"].begin() as session:
        return create_token(session, find_user(session, email), scope, name)[1]


@pytest.fixture
def tokens(api_app) -> dict[str, str]:
    return {"read": issue(api_app, AGENT, "read"), "write": issue(api_app, AGENT, "write"),
            "admin": issue(api_app, ADMIN, "write")}


@pytest.fixture
def ref(api_app) -> str:
    client = api_app.test_client()
    assert sign_in(client, "ann@acme.example").status_code == 302
    return file_ticket(client, subject="Printer offline", description="It says offline since Monday")


def call(app, method: str, path: str, token: str | None = None, body=None, **kwargs):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    client = kwargs.pop("client", None) or app.test_client()
    return client.open(PREFIX + path, method=method, headers=headers, json=body, **kwargs)


def assert_error(response, status: int, code: str, field: str | None = None) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    if field is not None:
        assert error["field"] == field


def routes(ref: str) -> list[tuple[str, str, dict | None, bool]]:
    """(method, path, body, writes) of every endpoint that needs a token."""
    return [("GET", "/tickets", None, False), ("GET", f"/tickets/{ref}", None, False),
            ("POST", f"/tickets/{ref}/reply", {"body": "Try turning it on"}, True),
            ("POST", f"/tickets/{ref}/status", {"status": IN_PROGRESS}, True),
            ("POST", f"/tickets/{ref}/note", {"body": "Checked the spooler"}, True),
            ("POST", f"/tickets/{ref}/owner", {"owner": AGENT}, True),
            ("POST", f"/tickets/{ref}/priority", {"priority": "P2"}, True),
            ("GET", "/articles", None, False), ("GET", "/articles/printer-offline", None, False),
            ("GET", "/search?q=printer", None, False)]


def test_the_routes_listed_here_are_every_route_but_the_document(api_app, ref):
    registered = {(m, r.rule) for r in api_app.url_map.iter_rules() if r.rule.startswith(PREFIX)
                  for m in r.methods - {"HEAD", "OPTIONS"}}
    listed = {(m, PREFIX + re.sub(r"\?.*", "", p).replace(ref, "<ref>").replace("printer-offline", "<article_id>"))
              for m, p, _, _ in routes(ref)}
    assert registered - listed == {("GET", PREFIX + "/openapi.json")}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic YWdlbnQ6cGFzcw=="}, {"Authorization": "Bearer"},
                                     {"Authorization": "Bearer kb_00000000_" + "A" * 43},
                                     {"Authorization": "Bearer not-a-token"}])
def test_without_a_live_token_every_endpoint_is_401(api_app, ref, headers):
    for method, path, body, _ in routes(ref):
        response = call(api_app, method, path, body=body, headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_session_cookie_counts_for_nothing(api_app, ref):
    client = api_app.test_client()
    assert sign_in(client, AGENT).status_code == 302
    assert client.get("/desk/").status_code == 200  # the cookie works on the desk
    for method, path, body, _ in routes(ref):
        assert_error(call(api_app, method, path, body=body, client=client), 401, "unauthorized")
    with api_app.extensions["kb.db"]() as db:
        assert find_ticket(db, ref).status == "submitted"


def test_read_tokens_read_and_cannot_write(api_app, ref, tokens):
    for method, path, body, writes in routes(ref):
        response = call(api_app, method, path, tokens["read"], body)
        if writes:
            assert_error(response, 403, "forbidden")
        else:
            assert response.status_code == 200, path
    with api_app.extensions["kb.db"]() as db:
        ticket = find_ticket(db, ref)
        assert ticket.status == "submitted" and [e.kind for e in ticket.events] == ["submitted"]


@pytest.mark.parametrize("who", ["write", "admin"])
def test_write_tokens_of_agents_and_admins_do_everything(api_app, ref, tokens, who):
    for method, path, body, writes in routes(ref):
        response = call(api_app, method, path, tokens[who], body)
        assert response.status_code == (201 if path.endswith(("/reply", "/note")) else 200), (path, response.get_json())


def test_revoked_tokens_and_deactivated_users_tokens_are_401(api_app, ref, tokens):
    assert call(api_app, "GET", "/tickets", tokens["write"]).status_code == 200
    with api_app.extensions["kb.db"].begin() as session:
        revoke_token(session, 2)  # the agent's write token (ids in the fixture's order)
    assert_error(call(api_app, "GET", "/tickets", tokens["write"]), 401, "unauthorized")
    assert call(api_app, "GET", "/tickets", tokens["read"]).status_code == 200
    with api_app.extensions["kb.db"].begin() as session:
        find_user(session, AGENT).active = False
    assert_error(call(api_app, "GET", "/tickets", tokens["read"]), 401, "unauthorized")
    assert call(api_app, "GET", "/tickets", tokens["admin"]).status_code == 200


def test_a_token_of_someone_no_longer_working_tickets_stops_working(api_app, tokens):
    with api_app.extensions["kb.db"].begin() as session:
        find_user(session, AGENT).role = "editor"
    assert_error(call(api_app, "GET", "/tickets", tokens["read"]), 401, "unauthorized")


def test_a_token_with_one_character_changed_is_refused(api_app, tokens):
    token = tokens["read"]
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert_error(call(api_app, "GET", "/tickets", forged), 401, "unauthorized")


# --- tickets ---------------------------------------------------------------------------------------------------

def test_ticket_list_filters_and_pages_with_a_stable_cursor(api_app, tokens):
    client = api_app.test_client()
    assert sign_in(client, "ann@acme.example").status_code == 302
    refs = [file_ticket(client, subject=f"Ticket {i}", category="printers" if i % 2 else "vpn") for i in range(5)]
    seen, cursor = [], None
    while True:
        page = call(api_app, "GET", f"/tickets?limit=2{'&cursor=' + cursor if cursor else ''}", tokens["read"])
        assert page.status_code == 200
        seen += [t["ref"] for t in page.get_json()["tickets"]]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            break
    assert seen == refs[::-1]
    printers = call(api_app, "GET", "/tickets?category=printers", tokens["read"]).get_json()["tickets"]
    assert [t["ref"] for t in printers] == [refs[3], refs[1]]
    assert printers[0]["customer"]["email"] == "ann@acme.example" and printers[0]["organisation"] == "Acme"
    assert call(api_app, "GET", "/tickets?status=resolved", tokens["read"]).get_json()["tickets"] == []
    assert len(call(api_app, "GET", "/tickets?status=submitted", tokens["read"]).get_json()["tickets"]) == 5


@pytest.mark.parametrize("query, field", [("status=closed", "status"), ("limit=0", "limit"), ("limit=x", "limit"),
                                          ("limit=101", "limit"), ("cursor=abc", "cursor"), ("colour=red", "colour"),
                                          ("category=" + "c" * 65, "category")])
def test_bad_list_parameters_are_400_naming_the_parameter(api_app, tokens, query, field):
    assert_error(call(api_app, "GET", f"/tickets?{query}", tokens["read"]), 400, "bad_request", field)


def test_a_ticket_reads_with_its_history(api_app, ref, tokens):
    ticket = call(api_app, "GET", f"/tickets/{ref.lower()}", tokens["read"]).get_json()
    assert ticket["ref"] == ref and ticket["description"] == "It says offline since Monday"
    assert ticket["next_statuses"] == [IN_PROGRESS, WAITING, RESOLVED]
    assert [(e["kind"], e["author"]["email"]) for e in ticket["events"]] == [("submitted", "ann@acme.example")]
    assert_error(call(api_app, "GET", "/tickets/KB-NOSUCH00", tokens["read"]), 404, "not_found")
    assert_error(call(api_app, "GET", "/tickets/" + "K" * 40, tokens["read"]), 404, "not_found")


def outbox(app) -> list[OutboxMessage]:
    with app.extensions["kb.db"]() as db:
        return list(db.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_reply_reaches_the_customer_with_its_status(api_app, ref, tokens):
    before = len(outbox(api_app))
    response = call(api_app, "POST", f"/tickets/{ref}/reply", tokens["write"],
                    {"body": "Please restart it", "status": WAITING})
    assert response.status_code == 201
    body = response.get_json()
    assert body["event"]["author"]["email"] == AGENT and body["event"]["author_kind"] == "agent"
    assert body["ticket"]["status"] == WAITING
    mail = outbox(api_app)[before:]
    assert [m.to_address for m in mail] == ["ann@acme.example"] and "Please restart it" in mail[0].text_body
    customer = api_app.test_client()
    assert sign_in(customer, "ann@acme.example").status_code == 302
    assert "Please restart it" in customer.get(f"/tickets/{ref}").get_data(as_text=True)


def test_a_reply_drops_links_to_internal_articles(api_app, ref, tokens):
    response = call(api_app, "POST", f"/tickets/{ref}/reply", tokens["write"],
                    {"body": "See [the runbook](/articles/agent-only) and [this](/articles/printer-offline)"})
    assert response.status_code == 201
    body = response.get_json()["event"]["body"]
    assert "agent-only" not in body and "/articles/printer-offline" in body


@pytest.mark.parametrize("body, status, code, field", [
    ({}, 422, "invalid", "body"), ({"body": "  "}, 422, "invalid", "body"), ({"body": 5}, 422, "invalid", "body"),
    ({"body": "x" * 20001}, 422, "invalid", "body"), ({"body": "hi", "status": "closed"}, 422, "invalid", "status"),
    ({"body": "hi", "extra": 1}, 422, "invalid", "extra"), ({"body": "a\ud800"}, 422, "invalid", "body"),
    ({"body": "hi", "status": "submitted"}, 409, "conflict", "status"), ([1], 400, "bad_request", "body")])
def test_bad_replies_are_refused_naming_the_field(api_app, ref, tokens, body, status, code, field):
    assert_error(call(api_app, "POST", f"/tickets/{ref}/reply", tokens["write"], body), status, code, field)
    with api_app.extensions["kb.db"]() as db:
        assert [e.kind for e in find_ticket(db, ref).events] == ["submitted"]


def test_bodies_that_are_not_json_or_too_large(api_app, ref, tokens):
    path = f"/tickets/{ref}/reply"
    assert_error(call(api_app, "POST", path, tokens["write"], data="body=hi",
                      content_type="application/x-www-form-urlencoded"), 415, "unsupported_media_type")
    assert_error(call(api_app, "POST", path, tokens["write"], data="{not json", content_type="application/json"),
                 400, "bad_request", "body")
    assert_error(call(api_app, "POST", path, tokens["write"], data="[" * 100000 + "]" * 100000,
                      content_type="application/json"), 400, "bad_request", "body")
    big = json.dumps({"body": "x" * 2_000_000})
    assert_error(call(api_app, "POST", path, tokens["write"], data=big, content_type="application/json"),
                 413, "too_large")


def test_status_changes_follow_the_desk_rules_and_tell_the_customer(api_app, ref, tokens):
    before = len(outbox(api_app))
    response = call(api_app, "POST", f"/tickets/{ref}/status", tokens["write"], {"status": RESOLVED})
    assert response.status_code == 200 and response.get_json()["status"] == RESOLVED
    assert [m.to_address for m in outbox(api_app)[before:]] == ["ann@acme.example"]
    assert_error(call(api_app, "POST", f"/tickets/{ref}/status", tokens["write"], {"status": WAITING}),
                 409, "conflict", "status")
    assert call(api_app, "POST", f"/tickets/{ref}/status", tokens["write"],
                {"status": IN_PROGRESS}).get_json()["events"][-1]["body"] == "Reopened"


# --- articles ----------------------------------------------------------------------------------------------------

def test_articles_list_every_article_to_staff(api_app, tokens):
    listed = call(api_app, "GET", "/articles?per_page=100", tokens["read"]).get_json()
    ids = [a["id"] for a in listed["articles"]]
    assert ids == sorted(ids) and "agent-only" in ids and "printer-offline" in ids and listed["total"] == len(ids)
    internal = next(a for a in listed["articles"] if a["id"] == "agent-only")
    assert internal["audience"] == "internal" and internal["url"] is None
    first = call(api_app, "GET", "/articles?per_page=1&page=2", tokens["read"]).get_json()
    assert [a["id"] for a in first["articles"]] == [ids[1]] and first["pages"] == len(ids)
    printers = call(api_app, "GET", "/articles?category=printers", tokens["read"]).get_json()["articles"]
    assert printers and {a["category"] for a in printers} == {"printers"}


def test_an_article_reads_as_html_and_markdown(api_app, tokens):
    article = call(api_app, "GET", "/articles/printer-offline", tokens["read"]).get_json()
    assert "<" in article["html"] and article["markdown"] and "---" not in article["markdown"][:3]
    assert article["url"].endswith("/articles/printer-offline")
    assert_error(call(api_app, "GET", "/articles/no-such-article", tokens["read"]), 404, "not_found")


def test_search_finds_internal_articles_too(api_app, tokens):
    found = call(api_app, "GET", "/search?q=printer+offline&k=3", tokens["read"]).get_json()
    assert found["results"] and found["results"][0]["id"] == "printer-offline" and len(found["results"]) <= 3
    assert_error(call(api_app, "GET", "/search", tokens["read"]), 400, "bad_request", "q")
    assert_error(call(api_app, "GET", "/search?q=x&k=51", tokens["read"]), 400, "bad_request", "k")


def test_unknown_paths_and_methods_answer_json(api_app, tokens):
    assert_error(call(api_app, "GET", "/nothing-here", tokens["read"]), 404, "not_found")
    assert_error(call(api_app, "DELETE", "/tickets", tokens["read"]), 405, "method_not_allowed")


def test_requests_are_limited_per_token(portal_settings, portal_index):
    from dataclasses import replace

    from tests.portal import make_app

    app = make_app(replace(portal_settings, rate_limit_api="3/minute"), portal_index[1])
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
    first, second = issue(app, AGENT), issue(app, AGENT)
    assert [call(app, "GET", "/tickets", first).status_code for _ in range(3)] == [200, 200, 200]
    assert_error(call(app, "GET", "/tickets", first), 429, "rate_limited")
    assert call(app, "GET", "/tickets", second).status_code == 200


# --- the OpenAPI document ----------------------------------------------------------------------------------------

def test_the_document_is_valid_openapi_and_describes_every_route(api_app):
    document = api_app.test_client().get(PREFIX + "/openapi.json").get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    documented = {(method.upper(), path) for path, item in document["paths"].items() for method in item}
    registered = {(m, openapi_path(r.rule)) for r in api_app.url_map.iter_rules() if r.rule.startswith(PREFIX)
                  for m in r.methods - {"HEAD", "OPTIONS"}}
    assert documented == registered
    for op in API.operations:
        doc = document["paths"][PREFIX + openapi_path(op.path)][op.method.lower()]
        names = {p["name"] for p in doc["parameters"]}
        assert names == {p.name for p in op.path_params + op.query}
        if op.body:
            assert set(doc["requestBody"]["content"]["application/json"]["schema"]["properties"]) == \
                {p.name for p in op.body}
        if op.scope == "write":
            assert "403" in doc["responses"]
        if op.scope:
            assert {"401", "429"} <= set(doc["responses"])


def test_the_document_lists_the_statuses_the_api_uses(api_app):
    reply = api_app.test_client().get(PREFIX + "/openapi.json").get_json()["paths"][PREFIX + "/tickets/{ref}/reply"]
    schema = reply["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["status"]["enum"] == list(STATUSES) and schema["required"] == ["body"]
    assert {"201", "401", "403", "404", "409", "413", "422"} <= set(reply["post"]["responses"])
