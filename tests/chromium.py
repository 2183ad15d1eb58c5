"""Debian's Chromium for the browser tests, where their screenshots go, and signing in through the form."""
from __future__ import annotations

from pathlib import Path

from tests.portal import PASSWORD

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "browser"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(browser, base: str, email: str, **context_options):
    """A new browser context signed in as `email` (tests.portal.PASSWORD) through the sign-in form: (context, page)."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.goto(base + "/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    return context, page
