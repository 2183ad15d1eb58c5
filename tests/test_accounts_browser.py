"""Self-service accounts in real Chromium against a live server: a manager invites a colleague, who creates their
account from the mailed link, signs out, forgets the password, sets a new one and signs in with it.

Links are read from the outbox, as the mail would carry them. Screenshots go under test-artifacts/browser/.
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.accounts import last_link
from tests.chromium import shot, sign_in

pytestmark = pytest.mark.slow
NIA = "nia@acme.example"


def test_invitation_sign_up_sign_out_forgot_password_sign_in(live, browser):
    app, base = live
    manager_context, page = sign_in(browser, base, "meg@acme.example")
    page.goto(base + "/account/invitations")
    page.get_by_label("E-mail").fill(NIA)
    with page.expect_navigation():
        page.get_by_role("button", name="Send the invitation").click()
    assert NIA in page.locator("#pending ~ ul").inner_text()
    shot(page, "accounts-1-invited")
    manager_context.close()

    context = browser.new_context()
    page = context.new_page()
    page.goto(base + urlsplit(last_link(app, NIA, "invitation")).path)
    assert NIA in page.locator("main").inner_text()
    page.get_by_label("Your name").fill("Nia New")
    page.get_by_label("Password", exact=True).fill("first passphrase")
    page.get_by_label("Password again").fill("first passphrase")
    shot(page, "accounts-2-new-account")
    with page.expect_navigation():
        page.get_by_role("button", name="Create my account").click()
    assert "your account is ready" in page.locator("main").inner_text().lower()
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("link", name="Sign in").is_visible()

    page.goto(base + "/sign-in")
    page.get_by_label("Your sign-in address").fill(NIA)
    with page.expect_navigation():
        page.get_by_role("button", name="Send me a link").click()
    assert "If an account exists for that address" in page.locator("main").inner_text()
    page.goto(base + urlsplit(last_link(app, NIA, "password_reset")).path)
    page.get_by_label("New password", exact=True).fill("second passphrase")
    page.get_by_label("New password again").fill("second passphrase")
    with page.expect_navigation():
        page.get_by_role("button", name="Set the password").click()
    assert page.url == base + "/sign-in"
    shot(page, "accounts-3-password-set")

    page.get_by_label("E-mail").fill(NIA)
    page.get_by_label("Password").fill("second passphrase")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("button", name="Sign out").is_visible()
    assert NIA in page.locator("header").inner_text()
    context.close()
