"""The interface language in real Chromium (Debian's /usr/bin/chromium driven by Playwright) against a live waitress
server: a Ukrainian browser gets the portal in Ukrainian, the switcher turns it to English and the choice stays;
the contact page's live suggestions speak the chosen language too.

Screenshots of each step are saved under test-artifacts/browser/.
"""
from __future__ import annotations

import pytest

from tests.chromium import shot
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow


def test_ukrainian_browser_then_english_with_the_switcher(live, browser):
    _, base = live
    context = browser.new_context(locale="uk-UA")
    page = context.new_page()
    page.goto(base + "/")
    assert page.locator("html").get_attribute("lang") == "uk"
    assert page.get_by_label("Опишіть вашу проблему").is_visible()
    assert page.get_by_role("heading", name="Категорії").is_visible()
    switcher = page.get_by_role("navigation", name="Мова")
    assert switcher.get_by_role("button", name="Українська").get_attribute("aria-current") == "true"
    shot(page, "i18n-1-ukrainian")

    # The switcher is reachable from the keyboard: focus its English button and press Enter.
    english = switcher.get_by_role("button", name="English")
    english.focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_label("Describe your problem").is_visible()
    shot(page, "i18n-2-english")

    # The choice is kept across pages, although the browser still asks for Ukrainian.
    page.get_by_label("Describe your problem").fill("printer offline")
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", name="Results for “printer offline”").is_visible()
    assert "Результати" not in page.content()
    context.close()


def test_live_suggestions_in_the_chosen_language(live, browser):
    _, base = live
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(base + "/sign-in")
    with page.expect_navigation():
        page.get_by_role("navigation", name="Language").get_by_role("button", name="Русский").click()
    assert page.locator("html").get_attribute("lang") == "ru"
    page.get_by_label("Электронная почта").fill("ann@acme.example")
    page.get_by_label("Пароль").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Войти").click()
    page.goto(base + "/contact")
    page.get_by_label("Опишите проблему").press_sequentially("my printer says offline")
    page.locator("#suggestions li.suggestion").first.wait_for(state="visible")
    suggestions = page.locator("#suggestions")
    # Built by portal.js from the page's translated words.
    assert suggestions.get_by_role("button", name="Это решило мою проблему").first.is_visible()
    assert "Похоже на: Printers" in suggestions.inner_text()
    shot(page, "i18n-3-russian-suggestions")
    context.close()
