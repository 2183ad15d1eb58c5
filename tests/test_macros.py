"""Macros: placeholders, the desk's macros pages and who may use and change which, applying one on a ticket
without JavaScript (text, article links, status) and "Save as macro" beside a suggested article."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from kb.errors import MacroError
from kb.helpdesk.accounts import add_staff
from kb.helpdesk.macro_models import Macro
from kb.helpdesk.macros import check_macro, fill, unknown_placeholders
from kb.helpdesk.models import TicketArticle, User
from kb.helpdesk.tickets import find_ticket
from tests.portal import PASSWORD, file_ticket, post, sign_in
from tests.test_desk_pages import draft
from tests.test_mail_notifications import ADMIN, AGENT, OTHER_AGENT, mail_app

EDITOR = "editor@desk.example"
LINK = "[Reset your password](http://localhost/articles/reset-password)"


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


def new_macro(client, **fields):
    data = {"title": "Password help", "body": "Hello {customer_name}, about {ticket_ref}:\nregards, {agent_name}",
            "articles": "reset-password", "status": "waiting_on_customer", **fields}
    return post(client, "/desk/macros/new", data)


def macro_id(app, title: str) -> int:
    with app.extensions["kb.db"]() as db:
        return db.scalar(select(Macro.id).where(Macro.title == title))


def test_placeholders_are_filled_once_and_on_one_line():
    assert unknown_placeholders("Hi {customer_name} {name} {name} {} {ticket ref}") == ["{name}", "{}"]
    values = {"customer_name": "Ann {agent_name}\nSmith", "ticket_ref": "KB-1", "agent_name": "Alex"}
    assert fill("{customer_name} / {ticket_ref} / {agent_name} / {other}", values) == \
        "Ann {agent_name} Smith / KB-1 / Alex / {other}"


def test_check_macro_names_the_bad_field():
    audiences = {"reset-password": "public", "agent-only": "internal"}
    for args, field in [(("", "b", [], ""), "title"), (("t", " ", [], ""), "body"),
                        (("t", "{customer}", [], ""), "body"), (("t", "b", ["agent-only"], ""), "articles"),
                        (("t", "b", ["nope"], ""), "articles"), (("t", "b", [], "submitted"), "status")]:
        with pytest.raises(MacroError) as caught:
            check_macro(*args, audiences=audiences)
        assert caught.value.field == field, args
    check_macro("t", "Hi {customer_name}", ["reset-password"], "resolved", audiences)


def test_an_agent_creates_edits_and_deletes_a_macro(app):
    agent = client_of(app, AGENT)
    assert 'href="/desk/macros/"' in agent.get("/desk/").get_data(as_text=True)
    assert agent.get("/desk/macros/").status_code == 200
    assert new_macro(agent).headers["Location"] == "/desk/macros/"
    number = macro_id(app, "Password help")
    listed = agent.get("/desk/macros/").get_data(as_text=True)
    assert f'href="/desk/macros/{number}">Password help</a>' in listed and "Reset your password" in listed
    form = agent.get(f"/desk/macros/{number}").get_data(as_text=True)
    assert 'value="reset-password"' in form and "regards, {agent_name}" in form
    changed = post(agent, f"/desk/macros/{number}", {"title": "Password help", "body": "Hi {customer_name}",
                                                     "articles": "", "status": "", "shared": "y"})
    assert changed.status_code == 302
    with app.extensions["kb.db"]() as db:
        macro = db.get(Macro, number)
        assert (macro.body, macro.article_ids, macro.status, macro.shared) == ("Hi {customer_name}", [], "", True)
        assert macro.owner.email == AGENT and macro.updated_by.email == AGENT
    assert post(agent, f"/desk/macros/{number}/delete").status_code == 302
    assert macro_id(app, "Password help") is None


def test_a_bad_macro_keeps_what_was_typed_and_names_the_field(app):
    agent = client_of(app, AGENT)
    typo = new_macro(agent, body="Hello {customer}, see {ticket_ref}")
    page = typo.get_data(as_text=True)
    assert typo.status_code == 400 and 'id="body-error"' in page and "unknown placeholder {customer}" in page
    assert "Hello {customer}, see {ticket_ref}" in page
    internal = new_macro(agent, articles="reset-password agent-only")
    page = internal.get_data(as_text=True)
    assert internal.status_code == 400 and 'id="articles-error"' in page and "agent-only" in page
    assert 'value="reset-password agent-only"' in page
    assert new_macro(agent, status="submitted").status_code == 400
    assert new_macro(agent, title="").status_code == 400
    assert macro_id(app, "Password help") is None


def routes(number: int) -> list[tuple[str, str]]:
    return [("GET", "/desk/macros/"), ("GET", "/desk/macros/new"), ("POST", "/desk/macros/new"),
            ("GET", f"/desk/macros/{number}"), ("POST", f"/desk/macros/{number}"),
            ("POST", f"/desk/macros/{number}/delete")]


def call(client, method: str, path: str):
    return client.get(path) if method == "GET" else post(client, path, {})


def test_who_may_open_which_macro_page(app):
    author = client_of(app, AGENT)
    assert new_macro(author, title="Mine").status_code == 302
    assert new_macro(author, title="Ours", shared="y").status_code == 302
    personal, shared = macro_id(app, "Mine"), macro_id(app, "Ours")
    anonymous = app.test_client()
    for method, path in routes(personal):
        response = call(anonymous, method, path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), path
    for email in ("ann@acme.example", "meg@acme.example", EDITOR):
        client = client_of(app, email)
        for method, path in routes(personal) + routes(shared):
            assert call(client, method, path).status_code == 404, (email, path)
    other, admin = client_of(app, OTHER_AGENT), client_of(app, ADMIN)
    for client in (other, admin):  # another agent's personal macro does not exist, not even for an admin
        for method, path in routes(personal)[3:]:
            assert call(client, method, path).status_code == 404, path
        assert "Mine" not in client.get("/desk/macros/").get_data(as_text=True)
    for method, path in routes(shared)[3:]:  # a shared one: used by all, changed by its author and admins
        assert call(other, method, path).status_code == 403, path
    assert "Ours" in other.get("/desk/macros/").get_data(as_text=True)
    assert admin.get(f"/desk/macros/{shared}").status_code == 200
    assert post(admin, f"/desk/macros/{shared}", {"title": "Ours", "body": "By the admin", "shared": "y"}
                ).status_code == 302
    with app.extensions["kb.db"]() as db:
        assert db.get(Macro, shared).updated_by.email == ADMIN and db.get(Macro, shared).owner.email == AGENT
    assert post(admin, f"/desk/macros/{shared}/delete").status_code == 302
    assert macro_id(app, "Ours") is None and macro_id(app, "Mine") is not None


@pytest.fixture
def ref(app):
    return file_ticket(client_of(app, "ann@acme.example"), subject="Password reset",
                       description="I forgot my password", category="accounts")


def test_applying_a_macro_without_javascript_fills_the_composer_then_sending_links_and_sets_status(app, ref):
    agent = client_of(app, AGENT)
    assert new_macro(agent).status_code == 302
    number = macro_id(app, "Password help")
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    picker = page[page.index('id="macros"'):page.index('id="reply"')]
    assert f'name="macro" value="{number}"' in picker and "Password help" in picker
    applied = post(agent, f"/desk/tickets/{ref}/reply", {"body": "Hi,", "macro": str(number)})
    assert applied.status_code == 200
    text = applied.get_data(as_text=True)
    filled = html.unescape(draft(text))
    assert filled == (f"Hi,\nHello ann@acme.example, about {ref}:\nregards, Alex\n{LINK}\n")
    assert re.search(r'<option selected value="waiting_on_customer">|<option value="waiting_on_customer" selected',
                     text)
    sent = post(agent, f"/desk/tickets/{ref}/reply", {"body": filled, "action": "send",
                                                       "status": "waiting_on_customer"})
    assert sent.status_code == 302
    with app.extensions["kb.db"]() as db:
        ticket = find_ticket(db, ref)
        assert ticket.status == "waiting_on_customer"
        assert [a.article_id for a in db.scalars(select(TicketArticle))] == ["reset-password"]
    other = client_of(app, OTHER_AGENT)  # another agent's personal macro cannot be applied
    assert post(other, f"/desk/tickets/{ref}/reply", {"body": "", "macro": str(number)}).status_code == 400
    assert post(agent, f"/desk/tickets/{ref}/reply", {"body": "", "macro": "99999"}).status_code == 400


def test_placeholder_values_are_escaped_and_not_expanded_again(app, ref):
    with app.extensions["kb.db"].begin() as db:
        db.scalar(select(User).where(User.email == "ann@acme.example")).name = '<b>"Ann"</b> {agent_name}'
    agent = client_of(app, AGENT)
    assert new_macro(agent, articles="", status="").status_code == 302
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert "data-text=\"Hello &lt;b&gt;&#34;Ann&#34;&lt;/b&gt; {agent_name}, about" in page
    applied = post(agent, f"/desk/tickets/{ref}/reply", {"macro": str(macro_id(app, "Password help"))})
    body = draft(applied.get_data(as_text=True))
    assert "<b>" not in body and html.unescape(body).startswith('Hello <b>"Ann"</b> {agent_name}, about')


def test_save_as_macro_beside_a_suggested_public_article(app, ref):
    page = client_of(app, AGENT).get(f"/desk/tickets/{ref}").get_data(as_text=True)
    suggested = page[page.index('id="suggested"'):page.index('id="macros"')]
    assert 'href="/desk/macros/new?article=reset-password"' in suggested
    assert "/desk/macros/new?article=agent-only" not in suggested
    form = client_of(app, AGENT).get("/desk/macros/new?article=reset-password").get_data(as_text=True)
    assert 'value="Reset your password"' in form and 'value="reset-password"' in form
    assert "Hello {customer_name}," in form
    blank = client_of(app, AGENT).get("/desk/macros/new?article=agent-only").get_data(as_text=True)
    assert 'value="agent-only"' not in blank


def test_a_macro_chooses_only_a_status_the_ticket_may_move_to(app, ref):
    agent = client_of(app, AGENT)
    assert new_macro(agent).status_code == 302  # sets waiting on customer
    assert post(agent, f"/desk/tickets/{ref}/status", {"status": "resolved"}).status_code == 302
    page = agent.get(f"/desk/tickets/{ref}").get_data(as_text=True)
    assert 'data-status=""' in page[page.index('id="macros"'):]  # a resolved ticket only reopens
    applied = post(agent, f"/desk/tickets/{ref}/reply", {"macro": str(macro_id(app, "Password help"))})
    assert applied.status_code == 200 and "Hello ann@acme.example" in draft(applied.get_data(as_text=True))
    assert 'value="waiting_on_customer" selected' not in applied.get_data(as_text=True)
