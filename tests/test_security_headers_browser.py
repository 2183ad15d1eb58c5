"""The Content-Security-Policy in real Chromium against a live waitress server: the portal, an article, the
contact form with its live suggestions, the desk's ticket page (its scripts and presence pings) and the insights
charts all work under it, and Chromium reports no violation of it on any of them. Screenshots are saved under
test-artifacts/browser/."""
from __future__ import annotations

import pytest

from kb.helpdesk.accounts import add_staff
from kb.helpdesk.models import User
from kb.helpdesk.tickets import create_ticket
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
AGENT, EDITOR = "agent@desk.example", "editor@desk.example"


@pytest.fixture(scope="module")
def ticket_ref(live):
    """An agent, an editor, and a ticket filed by ann@acme.example."""
    app, _ = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general")
        add_staff(db, EDITOR, PASSWORD, "editor")
        ann = db.query(User).filter_by(email="ann@acme.example").one()
        return create_ticket(db, ann, "Printer offline", "my printer says offline since Monday", "printers",
                             group="general").ref


def watch(page) -> list[str]:
    """What Chromium reports about a page from now on: console errors and warnings (a CSP violation is one) and
    uncaught script errors."""
    reports: list[str] = []
    page.on("console", lambda m: reports.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: reports.append(f"pageerror: {error}"))
    return reports


def violations(reports: list[str]) -> list[str]:
    return [r for r in reports if "Content Security Policy" in r or "Refused to" in r]


def test_the_policy_is_enforced_and_its_violations_are_heard(live, browser):
    """The listener hears a violation: an inline script added to the page is refused and reported."""
    _, base = live
    context = browser.new_context()
    page = context.new_page()
    reports = watch(page)
    response = page.goto(base + "/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';
                             document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.ran") is None
    assert violations(reports), reports
    context.close()


def test_portal_article_and_contact_form_work_under_the_policy(live, browser):
    _, base = live
    context, page = sign_in(browser, base, "ann@acme.example")
    reports = watch(page)
    page.goto(base + "/")
    assert page.locator("input[name=q]").first.is_visible()
    shot(page, "csp-1-portal")
    page.goto(base + "/articles/printer-offline")
    assert page.get_by_role("heading", name="Printer shows Offline").is_visible()
    shot(page, "csp-2-article")
    page.goto(base + "/contact")
    page.get_by_label("Describe the problem").press_sequentially("my printer says offline")
    page.locator("#suggestions li.suggestion").first.wait_for(state="visible")  # the script's fetch and render
    assert "Printer shows Offline" in page.locator("#suggestions").inner_text()
    shot(page, "csp-3-contact-suggestions")
    assert not violations(reports) and not reports, reports
    context.close()


def test_desk_ticket_and_insights_work_under_the_policy(live, browser, ticket_ref):
    _, base = live
    context, page = sign_in(browser, base, AGENT)
    reports = watch(page)
    with page.expect_response(lambda r: r.url.endswith("/presence") and r.request.method == "POST") as pinged:
        page.goto(f"{base}/desk/tickets/{ticket_ref}")  # presence.js pings as the page opens
    assert pinged.value.ok
    suggested = page.locator("#suggested li.kb-article")
    suggested.first.get_by_role("button", name="Insert link").click()  # desk.js at work
    assert "/articles/printer-offline" in page.get_by_label("Reply to the customer").input_value()
    shot(page, "csp-4-desk-ticket")
    assert not violations(reports) and not reports, reports
    context.close()

    context, page = sign_in(browser, base, EDITOR)
    reports = watch(page)
    page.goto(base + "/desk/insights/")
    charts = page.locator("svg.chart")
    assert charts.count() > 0 and charts.first.bounding_box()["width"] > 100
    shot(page, "csp-5-insights")
    assert not violations(reports) and not reports, reports
    context.close()
