"""An endorsed community answer among the contact form's live suggestions, in real Chromium: marked as a community
answer, linking to its question, without the "This solved my problem" button articles have."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.helpdesk import community as cm
from kb.helpdesk.accounts import add_staff
from kb.helpdesk.community_threads import set_endorsed
from kb.helpdesk.models import User
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD
from web.community_worker import CommunityWorker

pytestmark = pytest.mark.slow
AGENT = "search-agent@desk.example"
UNSURE = "Calendar invites arrive twice"


def test_an_endorsed_community_answer_is_suggested_while_typing(live, browser):
    app, base = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general")
        cm.ensure_category_topics(db, {"printers": "Printers"})
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        bob = db.scalar(select(User).where(User.email == "bob@acme.example"))
        agent = db.scalar(select(User).where(User.email == AGENT))
        question = cm.ask(db, ann, cm.find_topic(db, ann, "printers"), UNSURE, "Every meeting shows up twice.")
        reply = cm.answer(db, bob, question, "Remove the second calendar subscription.")
        set_endorsed(db, agent, reply, True)
        question_id = question.id
    assert CommunityWorker(app, interval=30).run_pass() is not None
    context, page = sign_in(browser, base, "ann@acme.example")
    page.goto(base + "/contact")
    page.get_by_label("Describe the problem").press_sequentially(UNSURE)
    item = page.locator("#suggestions li.community-hit").first
    item.wait_for(state="visible")
    assert "Community answer" in item.inner_text()
    assert item.locator("a").first.get_attribute("href") == f"/community/q/{question_id}"
    assert item.get_by_role("button").count() == 0
    shot(page, "community-suggestion")
    context.close()
