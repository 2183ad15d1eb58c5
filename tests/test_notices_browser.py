"""Known-issue notices in real Chromium against a live waitress server: an agent posts one on the desk, and a
customer describing a matching problem on the contact form sees it above the suggestions while typing."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kb.helpdesk.accounts import add_staff
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
AGENT = "notices-agent@desk.example"


def test_an_agent_posts_a_notice_and_a_customer_sees_it_while_typing(live, browser):
    app, base = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general")

    agent, page = sign_in(browser, base, AGENT)
    page.goto(base + "/desk/notices/")
    page.get_by_label("Title").fill("Printers on the third floor are down")
    page.get_by_label("What customers should know").fill("The print server is being replaced; expect it by noon.")
    page.get_by_label("Category").select_option("printers")
    with page.expect_navigation():
        page.get_by_role("button", name="Post notice").click()
    assert "Notice posted" in page.content() and "Active" in page.locator("main .meta").first.inner_text()
    shot(page, "notices-1-posted")
    agent.close()

    customer, page = sign_in(browser, base, "ann@acme.example")
    page.goto(base + "/contact")
    notices = page.locator("#known-issues")
    expect(notices).to_be_hidden()
    page.get_by_label("Describe the problem").press_sequentially("my printer says offline")
    expect(notices).to_be_visible()
    expect(notices.locator(".known-issue .title")).to_have_text("Printers on the third floor are down")
    expect(notices).to_contain_text("expect it by noon")
    suggestions = page.locator("#suggestions")
    expect(suggestions.locator("li.suggestion").first).to_contain_text("Printer shows Offline")
    above = page.evaluate("""() => {
        const n = document.getElementById('known-issues'), s = document.getElementById('suggestions');
        return n.getBoundingClientRect().bottom <= s.getBoundingClientRect().top
            && Boolean(n.compareDocumentPosition(s) & Node.DOCUMENT_POSITION_FOLLOWING);
    }""")
    assert above
    shot(page, "notices-2-contact")

    # Another problem: the notice goes away.
    page.get_by_label("Describe the problem").fill("forgot password")
    expect(notices).to_be_hidden()
    customer.close()
