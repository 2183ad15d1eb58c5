"""The desk on a phone (375 px wide) in real Chromium: the queue's rows become cards showing reference, subject and
status, and neither the queue nor a ticket scrolls sideways; their buttons are within the screen."""
from __future__ import annotations

import pytest

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.models import User
from kb.helpdesk.tickets import create_ticket
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
AGENT = "phone-agent@desk.example"
PHONE = {"width": 375, "height": 812}
SUBJECTS = ["Printer offline since the weekly maintenance window of the third floor", "VPN",
            "Pasted-a-very-long-error-code-0x80070005-ACCESS_DENIED-without-spaces-at-all"]


@pytest.fixture(scope="module")
def refs(live):
    app, _ = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general")
        ann = db.query(User).filter_by(email="ann@acme.example").one()
        made = [create_ticket(db, ann, s, "It stopped working this morning. " * 20, "printers", group="general")
                for s in SUBJECTS]
        made.append(create_ticket(db, ann, "ghbynth yt gtxfnftn", "с утра", subject_fixed="принтер не печатает"))
        return [t.ref for t in made]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def within_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]


def test_queue_and_ticket_fit_a_phone(live, browser, refs):
    _, base = live
    context, page = sign_in(browser, base, AGENT, viewport=PHONE)
    try:
        page.goto(base + "/desk/")
        assert fits(page)
        for ref, subject in zip(refs, SUBJECTS + ["принтер не печатает"]):
            card = page.locator(f"tr[data-ref='{ref}']")
            assert card.evaluate("row => getComputedStyle(row).display") == "block"
            assert within_screen(card)
            text = card.inner_text()
            assert ref in text and subject in text and "Submitted" in text
        assert within_screen(page.get_by_role("button", name="Filter"))
        shot(page, "desk-phone-1-queue")

        page.get_by_label("Search").fill("printer")
        with page.expect_navigation():
            page.get_by_role("button", name="Filter").click()
        assert "q=printer" in page.url and fits(page)
        assert page.locator("tr[data-ref]").count() >= 1

        page.goto(f"{base}/desk/tickets/{refs[2]}")
        assert fits(page)
        for name in ("Send reply", "Set status", "Change category"):
            assert within_screen(page.get_by_role("button", name=name)), name
        shot(page, "desk-phone-2-ticket")
    finally:
        context.close()
