"""Two agents on one ticket in real Chromium (two browser contexts) against a live waitress server: the second
sees "Alex is viewing", then "Alex is replying", and sees it go when Alex leaves; she takes the ticket and hands
it over to Alex.

Screenshots are saved under test-artifacts/browser/.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.models import Ticket, User
from kb.helpdesk.tickets import create_ticket
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
ALEX, BEA = "alex@desk.example", "bea@desk.example"
SECONDS = 20_000  # Playwright's waits, in ms: a few of the page's 5-second reports on a busy machine


@pytest.fixture(scope="module")
def ticket_ref(live):
    app, _ = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, ALEX, PASSWORD, "agent", "general", "Alex")
        add_staff(db, BEA, PASSWORD, "agent", "general", "Bea")
        ann = db.query(User).filter_by(email="ann@acme.example").one()
        return create_ticket(db, ann, "Printer offline", "my printer says offline", "printers", group="general").ref


def test_a_second_agent_sees_who_is_on_the_ticket_takes_it_and_hands_it_over(live, browser, ticket_ref):
    app, base = live
    alex_context, alex = sign_in(browser, base, ALEX)
    alex.goto(f"{base}/desk/tickets/{ticket_ref}")
    bea_context, bea = sign_in(browser, base, BEA)
    bea.goto(f"{base}/desk/tickets/{ticket_ref}")
    notice = bea.locator("#presence")
    expect(notice).to_have_text("Alex is viewing", timeout=SECONDS)
    shot(bea, "owners-1-viewing")

    alex.get_by_label("Reply to the customer").fill("Please restart the printer")
    expect(notice).to_have_text("Alex is replying", timeout=SECONDS)
    expect(alex.locator("#presence")).to_have_text("Bea is viewing", timeout=SECONDS)
    shot(bea, "owners-2-replying")

    alex_context.close()  # the page says goodbye as it closes
    expect(notice).to_be_hidden(timeout=SECONDS)

    with bea.expect_navigation():
        bea.get_by_role("button", name="Take it").click()
    expect(bea.locator("[data-owner]")).to_have_text("Bea")
    bea.get_by_label("Owner", exact=True).select_option(label="Alex")
    with bea.expect_navigation():
        bea.get_by_role("button", name="Assign", exact=True).click()
    expect(bea.locator("[data-owner]")).to_have_text("Alex")
    expect(bea.locator(".history")).to_contain_text("Bea → Alex")
    shot(bea, "owners-3-handed-over")
    bea.goto(f"{base}/desk/?view=unassigned")
    expect(bea.locator(f"tr[data-ref='{ticket_ref}']")).to_have_count(0)
    bea.goto(f"{base}/desk/")
    expect(bea.locator(f"tr[data-ref='{ticket_ref}'] td.owner")).to_have_text("Alex")
    shot(bea, "owners-4-queue")
    bea_context.close()
    with app.extensions["kb.db"]() as db:
        owner = db.query(Ticket).filter_by(ref=ticket_ref).one().owner
        assert owner.email == ALEX
