"""The agent desk in real Chromium (Debian's /usr/bin/chromium driven by Playwright) against a live waitress
server: an agent answers a ticket with a link from the suggestions, the customer follows it from the tracker.

Screenshots of each step are saved under test-artifacts/browser/.
"""
from __future__ import annotations

import pytest

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.models import User
from kb.helpdesk.tickets import create_ticket
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
AGENT = "agent@desk.example"


@pytest.fixture(scope="module")
def ticket_ref(live):
    """An agent, and a ticket filed by ann@acme.example."""
    app, _ = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general")
        ann = db.query(User).filter_by(email="ann@acme.example").one()
        ticket = create_ticket(db, ann, "Printer offline", "my printer says offline since Monday", "printers",
                               deflection={"query": "printer offline", "category": "printers", "confidence": 0.4,
                                           "shown": []}, predicted="printers", group="general")
        return ticket.ref


def test_agent_answers_with_a_link_and_the_customer_follows_it(live, browser, ticket_ref):
    _, base = live
    agent_context, page = sign_in(browser, base, AGENT)
    assert page.url == base + "/desk/"
    row = page.locator(f"tr[data-ref='{ticket_ref}']")
    assert "general" in row.inner_text() and "Submitted" in row.inner_text()
    shot(page, "desk-1-queue")
    with page.expect_navigation():
        row.get_by_role("link").click()

    # Suggested articles for the ticket's text; one click puts a link to the first into the reply.
    suggested = page.locator("#suggested li.kb-article")
    assert "Printer shows Offline" in suggested.first.inner_text()
    shot(page, "desk-2-ticket")
    suggested.first.get_by_role("button", name="Insert link").click()
    reply = page.get_by_label("Reply to the customer")
    link = f"[Printer shows Offline]({base}/articles/printer-offline)"
    assert reply.input_value() == link + "\n"

    # An internal article: the browser asks first, then inserts its title only (the draft survives the search).
    page.get_by_label("Search the knowledge base").fill("password reset caller identity")
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()
    assert reply.input_value().strip() == link
    internal = page.locator("#kb-results li.kb-article.internal").first
    assert "Agent procedure for password resets" in internal.inner_text()
    dialogs: list[str] = []
    page.once("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))
    internal.get_by_role("button", name="Insert link").click()
    assert dialogs and "internal" in dialogs[0]
    assert reply.input_value().rstrip().endswith("Agent procedure for password resets")
    assert "agent-only" not in reply.input_value()
    page.get_by_label("Then set the status").select_option("waiting_on_customer")
    shot(page, "desk-3-composed")
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()
    assert "Your reply is sent" in page.content()
    shot(page, "desk-4-sent")
    agent_context.close()

    # The customer's tracker: the new status, the reply with a link that opens the article.
    customer_context, page = sign_in(browser, base, "ann@acme.example")
    page.goto(f"{base}/tickets/{ticket_ref}")
    current = page.locator(".tracker .step.current")
    assert "Waiting on customer" in current.inner_text()
    history = page.locator(".history")
    assert "Agent procedure for password resets" in history.inner_text()
    shot(page, "desk-5-tracker")
    with page.expect_navigation():
        history.get_by_role("link", name="Printer shows Offline").click()
    assert page.url == base + "/articles/printer-offline"
    assert page.get_by_role("heading", name="Printer shows Offline", level=1).is_visible()
    shot(page, "desk-6-article")
    customer_context.close()
