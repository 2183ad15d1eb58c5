"""Internal notes and macros in real Chromium (Playwright) against a live waitress server: an agent writes a
note, saves a suggested article as a macro, applies it in one click (text, link, status) and sends; the customer's
tracker shows the reply and the link, never the note.

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
AGENT = "macro-agent@desk.example"
MARKER = "NOTE-MARKER-b81d2e"


@pytest.fixture(scope="module")
def ticket_ref(live):
    app, _ = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general", "Alex")
        ann = db.query(User).filter_by(email="ann@acme.example").one()
        return create_ticket(db, ann, "Printer offline", "my printer says offline since Monday", "printers",
                             predicted="printers", group="general").ref


def test_agent_notes_applies_a_macro_and_the_customer_sees_only_the_reply(live, browser, ticket_ref):
    _, base = live
    context, page = sign_in(browser, base, AGENT)
    page.goto(f"{base}/desk/tickets/{ticket_ref}")

    page.get_by_label("Internal note").fill(f"Customer called: {MARKER}")
    with page.expect_navigation():
        page.get_by_role("button", name="Add internal note").click()
    note = page.locator(".history li.event.note")
    assert MARKER in note.inner_text() and "Internal note" in note.inner_text()
    shot(page, "notes-1-note")

    # "Save as macro" beside the first suggested article: a macro prefilled with its link.
    suggested = page.locator("#suggested li.kb-article").first
    assert "Printer shows Offline" in suggested.inner_text()
    with page.expect_navigation():
        suggested.get_by_role("link", name="Save as macro").click()
    assert page.get_by_label("Title").input_value() == "Printer shows Offline"
    assert page.get_by_label("Linked articles").input_value() == "printer-offline"
    page.get_by_label("Text").fill("Hello {customer_name}, about {ticket_ref}: please restart the printer.")
    page.get_by_label("Status to set when the reply is sent").select_option("waiting_on_customer")
    shot(page, "notes-2-macro")
    with page.expect_navigation():
        page.get_by_role("button", name="Save macro").click()
    assert "is saved" in page.content()

    # One click on the macro fills the reply (at the cursor, without a round trip) and chooses the status.
    page.goto(f"{base}/desk/tickets/{ticket_ref}")
    page.locator("#macros").get_by_role("button", name="Printer shows Offline").click()
    reply = page.get_by_label("Reply to the customer")
    link = f"[Printer shows Offline]({base}/articles/printer-offline)"
    assert reply.input_value() == (f"Hello ann@acme.example, about {ticket_ref}: please restart the printer.\n"
                                   f"{link}\n")
    assert page.get_by_label("Then set the status").input_value() == "waiting_on_customer"
    shot(page, "notes-3-applied")
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()
    assert "Your reply is sent" in page.content()
    context.close()

    customer, page = sign_in(browser, base, "ann@acme.example")
    page.goto(f"{base}/tickets/{ticket_ref}")
    assert "Waiting on customer" in page.locator(".tracker .step.current").inner_text()
    history = page.locator(".history")
    assert "please restart the printer." in history.inner_text()
    assert history.get_by_role("link", name="Printer shows Offline").get_attribute("href") == \
        f"{base}/articles/printer-offline"
    assert MARKER not in page.content() and "Internal note" not in page.content()
    shot(page, "notes-4-tracker")
    customer.close()
