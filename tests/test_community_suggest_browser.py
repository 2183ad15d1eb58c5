"""Asked before it is posted, in real Chromium against a live waitress server: a customer typing a question like
an answered one sees it under the title while typing (with the matching article), and clicking it lands on it."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kb.helpdesk import community as cm
from kb.helpdesk.models import User
from tests.chromium import shot, sign_in

pytestmark = pytest.mark.slow


def test_a_question_like_an_answered_one_shows_while_typing_and_leads_to_it(live, browser):
    app, base = live
    with app.extensions["kb.db"].begin() as db:
        cm.ensure_category_topics(db, {"printers": "Printers"})
        bob = db.scalar(select(User).where(User.email == "bob@acme.example"))
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        printers = cm.find_topic(db, bob, "printers")
        answered = cm.ask(db, bob, printers, "Printer offline after the Windows update", "Since Tuesday.")
        cm.accept(db, bob, cm.answer(db, ann, answered, "Reinstall the printer driver."))
        cm.ask(db, bob, printers, "Printer offline every morning", "No answer yet.")  # unanswered: never offered
        answered_id = answered.id

    context, page = sign_in(browser, base, "oz@other.example")
    page.goto(base + "/community/printers/ask")
    box = page.locator("#asked-before")
    expect(box).to_be_hidden()
    page.get_by_label("Your question").press_sequentially("my printer is offline after an update")
    questions = box.locator("li[data-kind=community]")
    expect(questions).to_have_count(1)
    expect(questions.first).to_contain_text("Printer offline after the Windows update")
    expect(questions.first).to_contain_text("Answered")
    expect(box.locator("li[data-kind=article]").first).to_contain_text("Printer shows Offline")
    shot(page, "community-asked-before")

    page.get_by_label("Your question").fill("zz")  # too short: nothing shown
    expect(box).to_be_hidden()
    page.get_by_label("Your question").fill("Printer offline after the update")
    with page.expect_navigation():
        questions.first.get_by_role("link").click()
    assert page.url == f"{base}/community/q/{answered_id}"
    expect(page.locator("h1")).to_contain_text("Printer offline after the Windows update")
    context.close()
