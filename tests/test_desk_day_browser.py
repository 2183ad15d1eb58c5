"""An agent's day on one ticket in real Chromium (Playwright) against a live waitress server: find it among the
unassigned, take it, add an internal note, set P2 and see the SLA clock follow, apply a shared macro with an
article link and a status in one click, send, and hand the ticket over to a colleague, whose "Mine" view then holds
it; the customer's tracker shows the reply and the article, never the note.

Screenshots of each step are saved under test-artifacts/browser/.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.macros import save_macro
from kb.helpdesk.models import Ticket, User
from kb.helpdesk.ticket_sla import SlaRules
from kb.helpdesk.tickets import create_ticket
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
ALEX, BEA = "day-alex@desk.example", "day-bea@desk.example"
MARKER = "DAY-NOTE-5c1e"


@pytest.fixture(scope="module")
def ticket_ref(live):
    app, _ = live
    rules = SlaRules.from_settings(app.config["KB_SETTINGS"])
    with app.extensions["kb.db"].begin() as db:
        alex = add_staff(db, ALEX, PASSWORD, "agent", "general", "Alex Day")
        add_staff(db, BEA, PASSWORD, "agent", "general", "Bea Day")
        save_macro(db, alex, None, title="Restart the printer", body="Hello {customer_name}, about {ticket_ref}: "
                   "please switch the printer off and on.", article_ids=["printer-offline"],
                   status="waiting_on_customer", shared=True, audiences={"printer-offline": "public"})
        ann = db.query(User).filter_by(email="ann@acme.example").one()
        return create_ticket(db, ann, "Office printer offline", "the printer on floor 2 says offline", "printers",
                             predicted="printers", group="general", rules=rules).ref


def due_of(app, ref: str):
    with app.extensions["kb.db"]() as db:
        return db.query(Ticket).filter_by(ref=ref).one().first_response_due


def test_an_agents_day_on_one_ticket(live, browser, ticket_ref):
    app, base = live
    context, page = sign_in(browser, base, ALEX)
    page.goto(f"{base}/desk/?view=unassigned")
    row = page.locator(f"tr[data-ref='{ticket_ref}']")
    expect(row).to_have_count(1)
    expect(row.locator("td.sla")).to_contain_text("left")
    shot(page, "day-1-unassigned")
    with page.expect_navigation():
        row.get_by_role("link").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Take it").click()
    expect(page.locator("[data-owner]")).to_have_text("Alex Day")

    page.get_by_label("Internal note").fill(f"Called the customer, printer is an HP {MARKER}")
    with page.expect_navigation():
        page.get_by_role("button", name="Add internal note").click()
    expect(page.locator(".history li.event.note")).to_contain_text(MARKER)

    predicted = page.locator(".priority").first.inner_text()
    due_before = due_of(app, ticket_ref)
    page.get_by_label("Priority", exact=True).select_option("P2")
    with page.expect_navigation():
        page.get_by_role("button", name="Change priority").click()
    expect(page.locator("#sla ~ p strong.priority")).to_have_text("P2")
    expect(page.locator(".sla-clocks")).to_contain_text("left")
    if predicted != "P2":
        assert due_of(app, ticket_ref) != due_before  # the clock follows the new priority
    shot(page, "day-2-priority")

    page.locator("#macros").get_by_role("button", name="Restart the printer").click()
    reply = page.get_by_label("Reply to the customer")
    expect(reply).to_have_value(f"Hello ann@acme.example, about {ticket_ref}: please switch the printer off and on."
                                f"\n[Printer shows Offline]({base}/articles/printer-offline)\n")
    assert page.get_by_label("Then set the status").input_value() == "waiting_on_customer"
    with page.expect_navigation():
        page.get_by_role("button", name="Send reply").click()
    assert "Your reply is sent" in page.content()

    page.get_by_label("Owner", exact=True).select_option(label="Bea Day")
    with page.expect_navigation():
        page.get_by_role("button", name="Assign", exact=True).click()
    expect(page.locator("[data-owner]")).to_have_text("Bea Day")
    expect(page.locator(".history")).to_contain_text("Alex Day → Bea Day")
    shot(page, "day-3-handed-over")
    context.close()

    bea_context, bea = sign_in(browser, base, BEA)
    bea.goto(f"{base}/desk/?view=mine")
    expect(bea.locator(f"tr[data-ref='{ticket_ref}'] td.owner")).to_have_text("Bea Day")
    bea_context.close()

    customer, page = sign_in(browser, base, "ann@acme.example")
    page.goto(f"{base}/tickets/{ticket_ref}")
    history = page.locator(".history")
    expect(history).to_contain_text("please switch the printer off and on.")
    assert history.get_by_role("link", name="Printer shows Offline").get_attribute("href") == \
        f"{base}/articles/printer-offline"
    content = page.content()
    assert MARKER not in content and "Internal note" not in content and "Bea Day" not in content
    shot(page, "day-4-tracker")
    customer.close()
