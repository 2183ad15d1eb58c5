"""Contact support, deflection, tickets and the JSON API through Flask's test client, with who may see what."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from kb.errors import ConfigError
from kb.helpdesk.models import Deflection, Ticket
from kb.helpdesk.tickets import set_status
from tests.portal import file_ticket, make_app, post, sign_in, tickets

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "x" * 30000, "\x00\x07", "🙂 Привет",
           "' OR 1=1 --", "{{ 7*7 }}"]


def test_contact_needs_sign_in_and_keeps_the_search(client):
    response = client.get("/contact?q=printer")
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in?next=/contact?q%3Dprinter"
    sign_in(client, "ann@acme.example")
    page = client.get("/contact?q=printer+offline").get_data(as_text=True)
    assert "\nprinter offline</textarea>" in page
    assert '<label for="subject">Subject</label>' in page and '<label for="description">' in page
    assert 'id="need-help"' in page  # the ticket form is one click away


def test_suggestions_without_javascript_and_solved(app, ann):
    page = post(ann, "/contact", {"subject": "printer", "description": "my printer says offline",
                                  "step": "suggest"}).get_data(as_text=True)
    assert 'href="/articles/printer-offline?s=' in page and "This solved my problem" in page
    assert "Looks like: Printers" in page
    solved = post(ann, "/contact/solved", {"article_id": "printer-offline", "query": "printer my printer says offline"})
    assert solved.status_code == 200 and "No ticket was filed" in solved.get_data(as_text=True)
    with app.extensions["kb.db"]() as db:
        row = db.scalar(select(Deflection))
    assert row.article_id == "printer-offline" and row.query == "printer my printer says offline"
    assert row.user_id is not None and row.visitor.startswith("user:")
    assert tickets(app) == []
    assert post(ann, "/contact/solved", {"article_id": "agent-only", "query": "x"}).status_code == 400


def test_unsure_description_shows_no_suggestion(ann):
    page = post(ann, "/contact", {"subject": "", "description": "zzz qqq", "step": "suggest"}).get_data(as_text=True)
    assert "This solved my problem</button>" not in page and "no article that surely answers" in page


def test_still_need_help_prefills_the_ticket_form_and_records_what_was_shown(app, ann):
    page = post(ann, "/contact", {"subject": "Printer <b>down</b>", "description": "my printer says offline",
                                  "step": "ticket"}).get_data(as_text=True)
    assert 'action="/tickets/new"' in page
    assert 'value="Printer &lt;b&gt;down&lt;/b&gt;"' in page and "\nmy printer says offline</textarea>" in page
    assert re.search(r'<option selected value="printers">|<option value="printers" selected>', page)
    response = post(ann, "/tickets/new", {"subject": "Printer <b>down</b>", "description": "my printer says offline",
                                          "category": "accounts", "searched": "Printer down my printer says offline"})
    assert response.status_code == 302
    [ticket] = tickets(app)
    assert ticket.category == "accounts"  # the customer changed the guess
    assert ticket.deflection["query"] == "Printer down my printer says offline"
    assert [s["id"] for s in ticket.deflection["shown"]] == ["printer-offline"]
    assert response.headers["Location"] == f"/tickets/{ticket.ref}"


def test_ticket_page_shows_the_tracker_and_history(app, ann):
    ref = file_ticket(ann)
    page = ann.get(f"/tickets/{ref}").get_data(as_text=True)
    assert re.search(r'class="step current" aria-current="step">\s*<span class="label">Submitted', page)
    assert page.count('class="step todo"') == 3
    for label in ("In progress", "Waiting on customer", "Resolved"):
        assert f'<span class="label">{label}</span>' in page
    with app.extensions["kb.db"].begin() as db:
        set_status(db, db.scalar(select(Ticket)), "waiting_on_customer", note="Which printer model?")
    page = ann.get(f"/tickets/{ref}").get_data(as_text=True)
    assert re.search(r'class="step current" aria-current="step">\s*<span class="label">Waiting on customer', page)
    assert "Which printer model?" in page and "by support" in page
    reply = post(ann, f"/tickets/{ref}/reply", {"body": "An HP <LaserJet>"})
    assert reply.status_code == 302
    page = ann.get(f"/tickets/{ref}").get_data(as_text=True)
    assert "An HP &lt;LaserJet&gt;" in page
    assert re.search(r'class="step current" aria-current="step">\s*<span class="label">In progress', page)
    listing = ann.get("/tickets").get_data(as_text=True)
    assert ref in listing.split("Past", 1)[0]  # active
    with app.extensions["kb.db"].begin() as db:
        set_status(db, db.scalar(select(Ticket)), "resolved")
    assert ref in ann.get("/tickets").get_data(as_text=True).split("Past", 1)[1]


def _as(app, email):
    client = app.test_client()
    if email:
        sign_in(client, email)
    return client


@pytest.mark.parametrize("viewer, sees", [
    ("ann@acme.example", True),  # the member who filed it
    ("meg@acme.example", True),  # the manager of the same organisation
    ("bob@acme.example", False),  # another member of the same organisation
    ("oz@other.example", False),  # a manager of another organisation
])
def test_who_sees_a_ticket_on_pages_and_api(app, viewer, sees):
    ref = file_ticket(_as(app, "ann@acme.example"), subject="Ann's private printer")
    client = _as(app, viewer)
    page, api = client.get(f"/tickets/{ref}"), client.get(f"/api/tickets/{ref}")
    listing = client.get("/tickets").get_data(as_text=True)
    api_list = [t["ref"] for t in client.get("/api/tickets").get_json()["tickets"]]
    if sees:
        assert page.status_code == 200 and api.status_code == 200 and api.get_json()["ref"] == ref
        assert ref in listing and ref in api_list
    else:
        assert page.status_code == 404 and api.status_code == 404  # not 403: it does not exist for them
        assert ref not in listing and ref not in api_list
        assert post(client, f"/tickets/{ref}/reply", {"body": "hi"}).status_code == 404


def test_anonymous_gets_no_ticket(app):
    ref = file_ticket(_as(app, "ann@acme.example"))
    anonymous = app.test_client()
    assert anonymous.get(f"/tickets/{ref}").status_code == 302
    assert anonymous.get("/tickets").status_code == 302
    assert anonymous.get(f"/api/tickets/{ref}").status_code == 401
    assert anonymous.post("/api/tickets", json={"subject": "a", "description": "b"}).status_code == 401
    assert post(anonymous, "/tickets/new", {"subject": "a", "description": "b"}).status_code == 302
    assert len(tickets(app)) == 1


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_in_every_ticket_field_is_kept_or_refused_clearly(app, ann, value):
    data = {"subject": value, "description": value, "category": value, "searched": value}
    response = post(ann, "/tickets/new", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400  # the category is never valid
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "Category: Not a valid choice" in page or "Not a valid choice" in page
    if len(value) > 200:
        assert "Subject: at most 200 characters (this has 30000)" in page
    data["category"] = "printers"
    response = post(ann, "/tickets/new", data)
    if len(value) > 200:
        assert response.status_code == 400 and "Description: at most 20000 characters" in response.get_data(as_text=True)
        return
    if not value.strip("\x00\x07"):
        assert response.status_code == 400 and "Subject: please fill this in." in response.get_data(as_text=True)
        return
    assert response.status_code == 302
    [ticket] = tickets(app)
    assert ticket.subject == value and ticket.description == value  # stored verbatim
    page = ann.get(f"/tickets/{ticket.ref}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    if value == "{{ 7*7 }}":
        assert "{{ 7*7 }}" in page  # shown as typed, never evaluated as a template


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_in_every_other_field(app, ann, value):
    too_long, control = len(value) > 10000, "\x00" in value
    # the forms show themselves again (too long: refused), no article has that id, a vote is always taken, and
    # sign-in refuses the values it cannot even check (too long, control characters) and denies the others
    for path, data, status in [
            ("/contact", {"subject": value, "description": value, "step": "suggest"}, 400 if too_long else 200),
            ("/contact", {"subject": value, "description": value, "step": "ticket"}, 400 if too_long else 200),
            ("/contact/solved", {"article_id": value, "query": value}, 400),
            ("/articles/printer-offline/vote", {"helpful": value}, 302),
            ("/sign-in", {"email": value, "password": value, "next": value}, 400 if too_long or control else 401)]:
        response = post(ann, path, data)
        assert response.status_code == status, (path, response.status_code)
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    ref = file_ticket(ann)
    response = post(ann, f"/tickets/{ref}/reply", {"body": value})
    assert response.status_code == (400 if too_long or control else 302)
    for path in ["/api/suggest", "/api/search"]:
        response = ann.get(path, query_string={"q": value})
        assert response.status_code == 200 and response.is_json
    assert ann.get("/api/tickets/" + value[:100]).status_code == 404


def test_ticket_form_errors_keep_what_was_typed(ann):
    response = post(ann, "/tickets/new", {"subject": "", "description": "Kept text", "category": "printers"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Subject: please fill this in." in page
    assert "\nKept text</textarea>" in page and 'aria-invalid="true"' in page
    assert re.search(r'<option selected value="printers">|<option value="printers" selected>', page)


def test_api_suggest(client):
    data = client.get("/api/suggest?q=my+printer+says+offline").get_json()
    assert data["confident"] and data["category"] == "printers" and data["category_title"] == "Printers"
    assert 1 <= len(data["suggestions"]) <= 3 and data["suggestions"][0]["id"] == "printer-offline"
    assert data["suggestions"][0]["url"].startswith("/articles/printer-offline")
    assert client.get("/api/suggest?q=zzz+qqq").get_json()["suggestions"] == []  # not confident: nothing
    assert client.get("/api/suggest?q=pr").get_json()["suggestions"] == []  # under 3 characters
    assert all(s["id"] != "agent-only" for s in client.get("/api/suggest?q=callback+identity").get_json()["suggestions"])


def test_api_suggest_is_rate_limited(portal_index, portal_settings):
    client = make_app(replace(portal_settings, rate_limit_suggest="2/minute"), portal_index[1]).test_client()
    statuses = [client.get("/api/suggest?q=printer").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert "Too many requests" in client.get("/api/suggest?q=printer").get_json()["error"]


def test_behind_a_proxy_limits_count_the_forwarded_address(portal_index, portal_settings):
    def statuses(proxy_hops: int) -> list[int]:
        client = make_app(replace(portal_settings, rate_limit_suggest="2/minute", proxy_hops=proxy_hops),
                          portal_index[1]).test_client()
        return [client.get("/api/suggest?q=printer", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                for i in range(3)]

    # Trusted proxy: three customers behind it, one request each. Untrusted: the header is a client's say-so.
    assert statuses(1) == [200, 200, 200]
    assert statuses(0) == [200, 200, 429]


def test_negative_proxy_hops_is_a_config_error(portal_index, portal_settings):
    with pytest.raises(ConfigError, match="proxy_hops"):
        make_app(replace(portal_settings, proxy_hops=-1), portal_index[1])


def test_api_tickets(app, ann):
    created = ann.post("/api/tickets", json={"subject": "VPN <b>", "description": "не работает впн",
                                             "category": "vpn"})
    assert created.status_code == 201
    body = created.get_json()
    assert re.fullmatch(r"KB-[0-9A-Z]{8}", body["ref"]) and body["subject"] == "VPN <b>"
    assert [s["state"] for s in body["steps"]] == ["current", "todo", "todo", "todo"]
    assert ann.get(f"/api/tickets/{body['ref'].lower()}").get_json()["ref"] == body["ref"]
    [ticket] = tickets(app)
    assert ticket.deflection["query"] == "VPN <b> не работает впн"


@pytest.mark.parametrize("payload, status, field", [
    ({"subject": "", "description": "x"}, 400, "subject"),
    ({"subject": "x", "description": 5}, 400, "description"),
    ({"subject": "x" * 201, "description": "x"}, 400, "subject"),
    ({"subject": "x", "description": "x", "category": "<script>"}, 400, "category"),
    ([1, 2], 400, None),
])
def test_api_ticket_bad_input(app, ann, payload, status, field):
    response = ann.post("/api/tickets", json=payload)
    assert response.status_code == status and response.get_json().get("field") == field
    assert tickets(app) == []


def test_api_tickets_need_json(app, ann):
    response = ann.post("/api/tickets", data={"subject": "x", "description": "y"})
    assert response.status_code == 415 and tickets(app) == []


def test_ticket_creation_is_rate_limited_per_user(portal_index, portal_settings):
    app = make_app(replace(portal_settings, rate_limit_tickets="2/hour"), portal_index[1])
    from tests.portal import add_people
    add_people(app)
    client = _as(app, "ann@acme.example")
    file_ticket(client)
    assert client.post("/api/tickets", json={"subject": "b", "description": "b"}).status_code == 201
    assert post(client, "/tickets/new", {"subject": "c", "description": "c"}).status_code == 429
    assert file_ticket(_as(app, "bob@acme.example"))  # another customer is not limited by Ann's tickets


def test_unknown_pages_and_methods_never_500(client):
    assert client.get("/nope").status_code == 404
    assert client.get("/api/nope").get_json()["error"]
    assert client.delete("/api/tickets").status_code == 405
    assert client.post("/", data={"x": "y"}).status_code == 405
    big = client.post("/sign-in", data={"email": "x" * (2 * 1024 * 1024)})
    assert big.status_code == 413
