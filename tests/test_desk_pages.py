"""The agent desk through Flask's test client: who may open which page, the queue, the ticket view, the composer,
status and category changes, and what reaches the customer."""
from __future__ import annotations

import json

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from kb.helpdesk.accounts import add_staff
from kb.errors import ConfigError
from kb.helpdesk.models import CategoryChange, Ticket, TicketArticle
from kb.helpdesk.tickets import find_ticket
from tests.portal import PASSWORD, file_ticket, make_app, post, sign_in

AGENT, ADMIN = "agent@desk.example", "admin@desk.example"


@pytest.fixture
def desk_app(app):
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent", "general", "Alex")
        add_staff(session, ADMIN, PASSWORD, "admin", "", "Ada")
    return app


def signed_in(app, email: str):
    client = app.test_client()
    if email:
        assert sign_in(client, email).status_code == 302
    return client


def ticket_row(app, ref: str) -> Ticket:
    """The ticket with its events, read in a session of its own."""
    with app.extensions["kb.db"]() as db:
        return find_ticket(db, ref)


@pytest.fixture
def ref(desk_app):
    """A ticket filed by ann@acme.example through the portal."""
    return file_ticket(signed_in(desk_app, "ann@acme.example"), subject="Printer offline",
                       description="my printer says offline <script>alert(1)</script>")


def staff_routes(ref: str) -> list[tuple[str, str]]:
    return [("GET", "/desk/"), ("GET", f"/desk/tickets/{ref}"), ("GET", "/desk/articles/agent-only"),
            ("POST", f"/desk/tickets/{ref}/reply"), ("POST", f"/desk/tickets/{ref}/status"),
            ("POST", f"/desk/tickets/{ref}/category")]


ADMIN_ROUTES = [("GET", "/desk/admin/"), ("POST", "/desk/admin/agents"), ("POST", "/desk/admin/organisations")]


def request(client, method: str, path: str):
    return client.get(path) if method == "GET" else post(client, path, {})


def test_anonymous_visitors_are_sent_to_sign_in(desk_app, ref):
    client = desk_app.test_client()
    for method, path in staff_routes(ref) + ADMIN_ROUTES:
        response = request(client, method, path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/sign-in?next=/desk"), path


@pytest.mark.parametrize("email", ["ann@acme.example", "meg@acme.example", "oz@other.example"])
def test_to_customers_the_desk_does_not_exist(desk_app, ref, email):
    client = signed_in(desk_app, email)
    for method, path in staff_routes(ref) + ADMIN_ROUTES:
        assert request(client, method, path).status_code == 404, (email, path)


def test_agents_work_the_desk_but_not_the_admin_page(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    assert agent.get("/desk/").status_code == 200
    assert agent.get(f"/desk/tickets/{ref}").status_code == 200
    for method, path in ADMIN_ROUTES:
        assert request(agent, method, path).status_code == 404, path
    admin = signed_in(desk_app, ADMIN)
    assert admin.get("/desk/").status_code == 200 and admin.get("/desk/admin/").status_code == 200


def test_staff_sign_in_lands_on_the_desk_and_customer_pages_send_them_there(desk_app, ref):
    client = desk_app.test_client()
    response = sign_in(client, AGENT)
    assert response.headers["Location"] == "/desk/"
    for path in ("/contact", "/tickets", f"/tickets/{ref}", "/tickets/new"):
        assert client.get(path).headers["Location"] == "/desk/", path
    assert post(client, "/tickets/new", {"subject": "x", "description": "y"}).headers["Location"] == "/desk/"
    # Staff are no customers in the API either: not even a ticket of their own.
    assert client.get("/api/tickets").status_code == 403
    assert client.get(f"/api/tickets/{ref}").status_code == 403
    assert client.post("/api/tickets", json={"subject": "s", "description": "d"}).status_code == 403
    page = client.get("/").get_data(as_text=True)
    assert 'href="/desk/"' in page and "My tickets" not in page


def test_unknown_ticket_is_404(desk_app):
    agent = signed_in(desk_app, AGENT)
    assert agent.get("/desk/tickets/KB-00000000").status_code == 404
    assert agent.get("/desk/tickets/" + "x" * 300).status_code == 404
    assert post(agent, "/desk/tickets/KB-00000000/reply", {"action": "send", "body": "hi"}).status_code == 404
    assert agent.get("/desk/articles/no-such-article").status_code == 404


def test_forms_need_the_csrf_token(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    response = agent.post(f"/desk/tickets/{ref}/reply", data={"action": "send", "body": "hello"})
    assert response.status_code == 400
    assert agent.post(f"/desk/tickets/{ref}/status", data={"status": "resolved"}).status_code == 400
    assert ticket_row(desk_app, ref).status == "submitted" and len(ticket_row(desk_app, ref).events) == 1


def test_ticket_view_shows_request_history_deflection_and_suggestions(desk_app, ref):
    ann = signed_in(desk_app, "ann@acme.example")
    older = file_ticket(ann, subject="Forgot password", description="forgot password again", category="accounts")
    page = signed_in(desk_app, AGENT).get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert "my printer says offline &lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "ann@acme.example (Acme)" in page
    assert f'href="/desk/tickets/{older}"' in page  # the customer's other tickets
    deflection = page[page.index('id="deflection"'):page.index('id="earlier"')]
    assert "Printer offline my printer says offline" in deflection and "Printer shows Offline" in deflection
    suggested = page[page.index('id="suggested"'):page.index('id="reply"')]
    assert re.search(r"confidence \d\.\d\d", suggested)
    assert 'data-url="http://localhost/articles/printer-offline"' in suggested
    assert "Predicted: <strong>Printers</strong>" in page


def test_suggestions_include_internal_articles_marked_and_without_their_address(desk_app):
    ref = file_ticket(signed_in(desk_app, "ann@acme.example"), subject="Password reset",
                      description="verify caller identity before a password reset", category="accounts")
    page = signed_in(desk_app, AGENT).get(f"/desk/tickets/{ref}").get_data(as_text=True)
    item = re.search(r'<li class="kb-article internal">.*?</li>', page, re.DOTALL).group(0)
    assert "Agent procedure for password resets" in item and "Internal" in item
    assert 'href="/desk/articles/agent-only"' in item and "data-internal" in item
    assert "data-url" not in item and "/articles/agent-only\"" not in item.replace("/desk/articles/agent-only", "")


def test_agents_read_internal_articles(desk_app):
    page = signed_in(desk_app, AGENT).get("/desk/articles/agent-only").get_data(as_text=True)
    assert "callback number" in page and "Internal: agents only" in page


def composer(client, ref: str, data: dict):
    return post(client, f"/desk/tickets/{ref}/reply", data)


def draft(page: str) -> str:
    return re.search(r'<textarea[^>]*name="body"[^>]*>\r?\n?(.*?)</textarea>', page, re.DOTALL).group(1)


def test_composer_without_javascript_searches_and_inserts_links(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    # a query both articles answer closely enough to be listed together (the list stops where relevance falls off)
    page = composer(agent, ref, {"body": "Hello Ann,", "kb": "password resets", "action": "search"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    results = text[text.index('id="kb-results"'):text.index('id="suggested"')]
    assert "Reset your password" in results and "Agent procedure for password resets" in results
    assert draft(text) == "Hello Ann,"
    inserted = composer(agent, ref, {"body": "Hello Ann,", "kb": "reset password", "insert": "reset-password",
                                     "with_summary": "y"}).get_data(as_text=True)
    assert draft(inserted) == ("Hello Ann,\n[Reset your password](http://localhost/articles/reset-password)\n"
                               "Go to the self-service password page and follow the steps. See also the printer article.\n")
    # The same by GET ?kb=: results with insert buttons.
    got = agent.get(f"/desk/tickets/{ref}?kb=forgot+password").get_data(as_text=True)
    assert 'value="reset-password"' in got[got.index('id="kb-results"'):]


def test_inserting_an_internal_article_asks_first_and_inserts_no_link(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    asked = composer(agent, ref, {"body": "Hi", "insert": "agent-only"}).get_data(as_text=True)
    assert 'id="confirm-internal"' in asked and draft(asked) == "Hi"
    confirmed = composer(agent, ref, {"body": "Hi", "confirm_internal": "agent-only"}).get_data(as_text=True)
    assert draft(confirmed) == "Hi\nAgent procedure for password resets\n"
    assert 'id="confirm-internal"' not in confirmed
    assert composer(agent, ref, {"body": "Hi", "insert": "no-such-article"}).status_code == 400


def test_sending_a_reply_reaches_the_customer_with_a_working_link(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    body = "See [Reset your password](http://localhost/articles/reset-password) <b>now</b>"
    response = composer(agent, ref, {"body": body, "action": "send", "status": "waiting_on_customer"})
    assert response.status_code == 302 and response.headers["Location"] == f"/desk/tickets/{ref}#history"
    ticket = ticket_row(desk_app, ref)
    assert ticket.status == "waiting_on_customer"
    assert [(e.kind, e.author_kind) for e in ticket.events][1:] == [("reply", "agent"), ("status", "agent")]
    with desk_app.extensions["kb.db"]() as db:
        assert [(a.article_id, a.event_id) for a in db.scalars(select(TicketArticle))] == \
            [("reset-password", ticket.events[1].id)]
    ann = signed_in(desk_app, "ann@acme.example")
    page = ann.get(f"/tickets/{ref}").get_data(as_text=True)
    assert '<a href="http://localhost/articles/reset-password" rel="noopener nofollow">Reset your password</a>' in page
    assert "&lt;b&gt;now&lt;/b&gt;" in page and "<b>now" not in page
    assert re.search(r'class="step current" aria-current="step">\s*<span class="label">Waiting on customer', page)
    assert "by support" in page
    assert ann.get("/articles/reset-password").status_code == 200
    # The customer answers: back in progress, and the ticket moves up the queue.
    post(ann, f"/tickets/{ref}/reply", {"body": "Done, still broken"})
    assert ticket_row(desk_app, ref).status == "in_progress"


def test_links_to_internal_articles_never_leave_in_a_reply(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    body = ("Internal: [Agent procedure](http://localhost/articles/agent-only) and "
            "http://localhost/articles/agent-only and /articles/agent-only, public: http://localhost/articles/printer-offline")
    response = composer(agent, ref, {"body": body, "action": "send"})
    assert response.status_code == 302
    reply = ticket_row(desk_app, ref).events[-1]
    assert "agent-only" not in reply.body and "Agent procedure" in reply.body
    assert "http://localhost/articles/printer-offline" in reply.body
    ann = signed_in(desk_app, "ann@acme.example")
    for page in (ann.get(f"/tickets/{ref}").get_data(as_text=True), ann.get(f"/api/tickets/{ref}").get_data(as_text=True)):
        assert "agent-only" not in page and "callback number" not in page
    with desk_app.extensions["kb.db"]() as db:
        assert [a.article_id for a in db.scalars(select(TicketArticle))] == ["printer-offline"]


def test_empty_reply_is_refused_and_the_draft_kept(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    response = composer(agent, ref, {"body": "   ", "action": "send"})
    assert response.status_code == 400 and "Reply: please fill this in." in response.get_data(as_text=True)
    assert composer(agent, ref, {"body": "x", "action": "send", "status": "submitted"}).status_code == 400
    assert len(ticket_row(desk_app, ref).events) == 1


def test_status_moves_and_reopen_are_events_the_customer_sees(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    assert post(agent, f"/desk/tickets/{ref}/status", {"status": "submitted"}).status_code == 400
    for status in ("in_progress", "resolved"):
        assert post(agent, f"/desk/tickets/{ref}/status", {"status": status}).status_code == 302
    assert post(agent, f"/desk/tickets/{ref}/status", {"status": "waiting_on_customer"}).status_code == 400
    assert 'value="in_progress"' in agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert post(agent, f"/desk/tickets/{ref}/status", {"status": "in_progress"}).status_code == 302
    ticket = ticket_row(desk_app, ref)
    assert ticket.status == "in_progress"
    assert [(e.status_from, e.status_to, e.body) for e in ticket.events[1:]] == [
        ("submitted", "in_progress", ""), ("in_progress", "resolved", ""), ("resolved", "in_progress", "Reopened")]
    page = signed_in(desk_app, "ann@acme.example").get(f"/tickets/{ref}").get_data(as_text=True)
    assert page.count("Status: ") == 3 and "Reopened" in page and page.count("<time") >= 4


def test_category_change_is_kept_as_a_label_and_reroutes(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    before = ticket_row(desk_app, ref)
    assert before.predicted_category == "printers" and before.agent_group == "general"
    assert post(agent, f"/desk/tickets/{ref}/category", {"category": "no-such"}).status_code == 400
    assert post(agent, f"/desk/tickets/{ref}/category", {"category": "vpn"}).status_code == 302
    after = ticket_row(desk_app, ref)
    assert after.category == "vpn" and after.predicted_category == "printers"
    with desk_app.extensions["kb.db"]() as db:
        change = db.scalar(select(CategoryChange))
    assert (change.predicted, change.category_from, change.category_to) == ("printers", "printers", "vpn")
    # The customer's history shows no internal bookkeeping.
    assert "predicted" not in signed_in(desk_app, "ann@acme.example").get(f"/tickets/{ref}").get_data(as_text=True)


def test_queue_page_filters_counts_and_group(desk_app, ref):
    oz = signed_in(desk_app, "oz@other.example")
    other = file_ticket(oz, subject="VPN down", description="не работает впн", category="vpn")
    agent = signed_in(desk_app, AGENT)
    page = agent.get("/desk/").get_data(as_text=True)
    assert f'data-ref="{ref}"' in page and f'data-ref="{other}"' in page
    assert re.search(r'data-status="submitted"[^>]*>Submitted <span class="count">2</span>', page)
    row = re.search(rf'<tr data-ref="{ref}">.*?</tr>', page, re.DOTALL).group(0)
    assert '<td data-label="Group">general</td>' in row and "ann@acme.example" in row and "Acme" in row
    with desk_app.extensions["kb.db"]() as db:
        acme = db.scalar(select(Ticket.organisation_id).where(Ticket.ref == ref))
    filtered = agent.get(f"/desk/?org={acme}&status=submitted&age=<1h").get_data(as_text=True)
    assert f'data-ref="{ref}"' in filtered and f'data-ref="{other}"' not in filtered
    assert f'data-ref="{ref}"' not in agent.get("/desk/?category=vpn").get_data(as_text=True)
    assert "No tickets match." in agent.get("/desk/?age=>7d").get_data(as_text=True)
    for hostile in ("?status=<script>", "?org=-1", "?page=abc", "?page=99999999999", "?age=%00", "?group=' OR 1=1"):
        assert agent.get("/desk/" + hostile).status_code == 200, hostile


def test_queue_pages(app, portal_index, portal_settings):
    app = make_app(replace(portal_settings, desk_page_size=2), portal_index[1])
    with app.extensions["kb.db"].begin() as session:
        add_staff(session, AGENT, PASSWORD, "agent")
    # The fixture's people are already in this database (same file): file three tickets as ann.
    ann = signed_in(app, "ann@acme.example")
    refs = [file_ticket(ann, subject=f"Ticket {i}") for i in range(3)]
    agent = signed_in(app, AGENT)
    first = agent.get("/desk/").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'rel="next" href="/desk/?page=2"' in first
    # By default the least time left on the SLA clock first (same priority: the first filed is due first) ...
    second = agent.get("/desk/?page=2").get_data(as_text=True)
    assert sum(f'data-ref="{r}"' in second for r in refs) == 1 and f'data-ref="{refs[2]}"' in second
    # ... or the latest customer message first.
    second = agent.get("/desk/?page=2&sort=recent").get_data(as_text=True)
    assert sum(f'data-ref="{r}"' in second for r in refs) == 1 and f'data-ref="{refs[0]}"' in second


def _decoded(app, set_cookie: str) -> str:
    """A Set-Cookie header with the session cookie's signed payload read back."""
    name, value = set_cookie.split(";", 1)[0].split("=", 1)
    if name != app.config["SESSION_COOKIE_NAME"] or not value:
        return set_cookie
    serializer = app.session_interface.get_signing_serializer(app)
    return json.dumps(serializer.loads(value), default=str)


def test_admin_adds_agents_and_organisations(desk_app):
    admin = signed_in(desk_app, ADMIN)
    page = admin.get("/desk/admin/").get_data(as_text=True)
    assert AGENT in page and "Acme" in page and "Other" in page
    added = post(admin, "/desk/admin/agents", {"email": "New@Desk.example", "name": "<b>Nia</b>", "role": "agent",
                                              "group": "hardware", "password": "long enough"})
    assert added.status_code == 302
    for header in added.headers.getlist("Set-Cookie"):  # the flashed message travels in the admin's cookie
        assert "new@desk.example" not in _decoded(desk_app, header).lower()
    assert "can now sign in to the desk" in admin.get("/desk/admin/").get_data(as_text=True)
    new = desk_app.test_client()
    assert sign_in(new, "new@desk.example", "long enough").headers["Location"] == "/desk/"
    assert new.get("/desk/").status_code == 200 and new.get("/desk/admin/").status_code == 404
    page = admin.get("/desk/admin/").get_data(as_text=True)
    assert "new@desk.example" in page and "&lt;b&gt;Nia&lt;/b&gt;" in page and "<b>Nia" not in page
    for bad in ({"email": AGENT, "role": "agent", "password": "long enough"},
                {"email": "x@desk.example", "role": "manager", "password": "long enough"},
                {"email": "x@desk.example", "role": "agent", "password": "short"},
                {"email": "x@desk.example", "role": "agent", "group": "<script>", "password": "long enough"}):
        assert post(admin, "/desk/admin/agents", bad).status_code == 400, bad
    assert post(admin, "/desk/admin/organisations", {"name": "Globex <i>"}).status_code == 302
    assert "Globex &lt;i&gt;" in admin.get("/desk/admin/").get_data(as_text=True)
    duplicate = post(admin, "/desk/admin/organisations", {"name": "acme"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.get_data(as_text=True)
    # A capital letter the database's lower() does not fold (SQLite's folds ASCII only): the same name again is
    # refused, not a 500 from the names' unique index.
    assert post(admin, "/desk/admin/organisations", {"name": "Östra Ängby"}).status_code == 302
    duplicate = post(admin, "/desk/admin/organisations", {"name": " Östra  Ängby"})
    assert duplicate.status_code == 400 and "already exists" in duplicate.get_data(as_text=True)


HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "\x00\x07", "🙂 Привет", "{{ 7*7 }}",
           "javascript:alert(1)", "[x](javascript:alert(1))"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_text_in_every_desk_field_is_stored_verbatim_and_escaped(desk_app, ref, value):
    agent = signed_in(desk_app, AGENT)
    # a search shows the composer again; no article has that id to insert, and no status has that name
    for data, status in (({"body": value, "kb": value, "action": "search"}, 200),
                         ({"body": value, "insert": value}, 400),
                         ({"body": value, "status": value, "action": "send"}, 400)):
        assert composer(agent, ref, data).status_code == status, data
    assert post(agent, f"/desk/tickets/{ref}/status", {"status": value}).status_code == 400
    assert post(agent, f"/desk/tickets/{ref}/category", {"category": value}).status_code == 400
    assert agent.get(f"/desk/tickets/{ref}?kb=" + value).status_code == 200
    sent = composer(agent, ref, {"body": value + " ok", "action": "send"})
    assert sent.status_code == 302
    stored = ticket_row(desk_app, ref).events[-1].body
    assert stored == value.replace("\x00", "").replace("\x07", "") + " ok"
    for page in (agent.get(f"/desk/tickets/{ref}").get_data(as_text=True),
                 signed_in(desk_app, "ann@acme.example").get(f"/tickets/{ref}").get_data(as_text=True)):
        assert "<script>alert" not in page and "<img src=x" not in page and 'href="javascript' not in page


def test_no_customer_route_or_api_ever_shows_internal_articles_or_other_organisations_tickets(desk_app, ref):
    agent = signed_in(desk_app, AGENT)
    composer(agent, ref, {"body": "See http://localhost/articles/agent-only", "action": "send"})
    oz = signed_in(desk_app, "oz@other.example")
    theirs = file_ticket(oz, subject="Other org secret", description="verify caller identity password reset")
    ann = signed_in(desk_app, "ann@acme.example")
    pages = ["/", "/search?q=password+reset+caller+identity", "/categories/accounts", "/tickets", f"/tickets/{ref}",
             "/api/search?q=password+reset+caller+identity", "/api/suggest?q=password+reset+caller+identity",
             "/api/tickets", f"/api/tickets/{ref}", "/contact?q=password+reset"]
    for path in pages:
        response = ann.get(path)
        text = response.get_data(as_text=True)
        assert response.status_code == 200, path
        for secret in ("agent-only", "Agent procedure for password resets", "callback number", theirs,
                       "Other org secret"):
            assert secret not in text, (path, secret)
    for path in (f"/tickets/{theirs}", f"/api/tickets/{theirs}", "/articles/agent-only"):
        assert ann.get(path).status_code == 404, path
    found = post(ann, "/contact", {"subject": "", "description": "password reset caller identity", "step": "suggest"})
    assert "agent-only" not in found.get_data(as_text=True)


def test_new_tickets_are_routed_by_predicted_category(app, portal_index, portal_settings):
    routed = make_app(replace(portal_settings, routing="printers=hardware, *=front"), portal_index[1])
    ann = signed_in(routed, "ann@acme.example")
    printer = file_ticket(ann, subject="Printer", description="my printer says offline", category="vpn")
    other = file_ticket(ann, subject="Hello", description="zzz qqq", category="")
    assert (ticket_row(routed, printer).predicted_category, ticket_row(routed, printer).agent_group) == \
        ("printers", "hardware")
    assert ticket_row(routed, printer).category == "vpn"  # the customer's choice stays the ticket's category
    assert ticket_row(routed, other).agent_group in ("hardware", "front")
    assert ticket_row(routed, other).agent_group == ("hardware" if ticket_row(routed, other).predicted_category
                                                     == "printers" else "front")
    api = ann.post("/api/tickets", json={"subject": "Printer", "description": "my printer says offline"})
    assert ticket_row(routed, api.get_json()["ref"]).agent_group == "hardware"
    with pytest.raises(ConfigError, match="routing"):
        make_app(replace(portal_settings, routing="printers"), portal_index[1])
