"""The portal in real Chromium (Debian's /usr/bin/chromium driven by Playwright) against a live waitress server.

Screenshots of each step are saved under test-artifacts/browser/.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.helpdesk.models import Deflection, SearchRecord, Ticket
from tests.chromium import shot
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow


def signed_in(browser, base: str, **context_options):
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.goto(base + "/sign-in")
    page.get_by_label("E-mail").fill("ann@acme.example")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert "ann@acme.example" in page.content()
    return context, page


def test_deflection_then_ticket(live, browser):
    app, base = live
    context, page = signed_in(browser, base)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/suggest" in r.url else None)

    # A problem an article answers: suggestions appear as the customer types; "This solved my problem".
    page.goto(base + "/contact")
    text = "my printer says offline"
    page.get_by_label("Describe the problem").press_sequentially(text)
    page.locator("#suggestions li.suggestion").first.wait_for(state="visible")
    assert "Printer shows Offline" in page.locator("#suggestions").inner_text()
    assert 0 < len(requests) < len(text) // 2  # debounced: not one request per key
    shot(page, "1-suggestions")
    with page.expect_navigation():
        page.get_by_role("button", name="This solved my problem").first.click()
    assert page.get_by_role("heading", name="Glad it is solved").is_visible()
    shot(page, "2-solved")
    with app.extensions["kb.db"]() as db:
        deflection = db.scalar(select(Deflection))
    assert deflection.article_id == "printer-offline" and deflection.query == text

    # Another problem: "I still need help" opens the ticket form with the text and the predicted category.
    page.goto(base + "/contact")
    with page.expect_response(lambda r: "/api/suggest" in r.url):  # a pause after the subject: one search
        page.get_by_label("Subject").fill("VPN at home")
    with page.expect_response(lambda r: "/api/suggest" in r.url):  # and another one, later
        page.get_by_label("Describe the problem").press_sequentially("не работает")
    page.get_by_label("Describe the problem").press_sequentially(" впн")
    page.locator("#suggestions li.suggestion").first.wait_for(state="visible")
    shot(page, "3-typed")
    with page.expect_navigation():
        page.get_by_role("button", name="I still need help").click()
    assert page.get_by_role("heading", name="New ticket").is_visible()
    assert page.get_by_label("Subject").input_value() == "VPN at home"
    assert page.get_by_label("Describe the problem").input_value() == "не работает впн"
    assert page.get_by_label("Category").input_value() == "vpn"
    shot(page, "4-ticket-form")
    with page.expect_navigation():
        page.get_by_role("button", name="Submit ticket").click()
    current = page.locator(".tracker .step.current")
    assert current.count() == 1 and "Submitted" in current.inner_text()
    assert page.locator(".tracker .step").count() == 4
    shot(page, "5-tracker")
    with app.extensions["kb.db"]() as db:
        ticket = db.scalar(select(Ticket).order_by(Ticket.id.desc()))
    assert ticket.subject == "VPN at home" and ticket.category == "vpn" and ticket.ref in page.url
    # The searches made while typing, at "I still need help" and at filing count as the one search filed with.
    app.extensions["kb.events"].flush()
    with app.extensions["kb.db"]() as db:
        searches = list(db.scalars(select(SearchRecord).where(SearchRecord.query.like("VPN at home%"))))
    assert [(s.source, s.token) for s in searches] == [("form", ticket.deflection["search"])]
    context.close()


def test_without_javascript_the_same_flow_works(live, browser):
    app, base = live
    context, page = signed_in(browser, base, java_script_enabled=False)
    page.goto(base + "/contact")
    page.get_by_label("Subject").fill("Printer")
    page.get_by_label("Describe the problem").fill("my printer says offline")
    with page.expect_navigation():
        page.get_by_role("button", name="Find answers").click()
    assert page.locator("#suggestions li.suggestion").count() >= 1  # server-rendered step
    shot(page, "nojs-1-suggestions")
    with page.expect_navigation():
        page.get_by_role("button", name="I still need help").click()
    assert page.get_by_label("Describe the problem").input_value() == "my printer says offline"
    assert page.get_by_label("Category").input_value() == "printers"
    shot(page, "nojs-2-ticket-form")
    context.close()


@pytest.mark.parametrize("path", ["/", "/search?q=printer+offline", "/articles/printer-offline", "/contact",
                                  "/tickets", "/sign-in"])
def test_phone_viewport_has_no_horizontal_scroll(live, browser, path):
    _, base = live
    context, page = signed_in(browser, base, viewport={"width": 375, "height": 740}, is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    page.goto(base + path)
    if path == "/tickets":  # a ticket with a long unbroken subject, to show its tracker too
        page.goto(base + "/tickets/new?subject=" + "Longsubjectwithoutspaces" * 4 + "&description=x&category=vpn")
        with page.expect_navigation():
            page.get_by_role("button", name="Submit ticket").click()
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    name = "phone-" + (path.strip("/").split("?")[0].replace("/", "-") or "home")
    shot(page, name)
    assert fits, page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    context.close()


def test_keyboard_reaches_the_skip_link_first(live, browser):
    _, base = live
    page = browser.new_page()
    page.goto(base + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused.strip() == "Skip to content"
    page.close()
