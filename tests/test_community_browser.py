"""Hostile community posts in real Chromium (Debian's /usr/bin/chromium driven by Playwright) against a live
waitress server: script in a question's title and body, an answer and a report reason is shown as text on every
page that shows it, and no script of it runs (no dialog, no global set), not even by clicking its links."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from kb.helpdesk import community as cm
from kb.helpdesk.accounts import add_staff
from kb.helpdesk.models import User
from tests.chromium import shot, sign_in
from tests.portal import PASSWORD

pytestmark = pytest.mark.slow
AGENT = "community-agent@desk.example"
RUN = "window.__pwned=1"
HOSTILE = (f'<script>{RUN}</script><img src=x onerror="{RUN}"><svg onload="{RUN}"></svg>'
           f'<a href="javascript:{RUN}">raw</a>')
BODY = HOSTILE + f'\n\n[click me](javascript:{RUN})\n\n[data](data:text/html,<script>{RUN}</script>)\n\n' \
                 f'![x" onerror="{RUN}](https://example.invalid/x.png)'


@pytest.fixture(scope="module")
def question_id(live):
    app, _ = live
    with app.extensions["kb.db"].begin() as db:
        add_staff(db, AGENT, PASSWORD, "agent", "general")
        cm.ensure_category_topics(db, {"printers": "Printers"})
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        bob = db.scalar(select(User).where(User.email == "bob@acme.example"))
        question = cm.ask(db, ann, cm.find_topic(db, ann, "printers"), HOSTILE, BODY)
        reply = cm.answer(db, bob, question, BODY)
        cm.report(db, bob, reply, HOSTILE)
        cm.report(db, bob, question, HOSTILE)
        return question.id


def _no_script_ran(page, dialogs: list[str]) -> None:
    assert page.evaluate("window.__pwned === undefined"), "a post's script ran"
    assert dialogs == []


def test_hostile_posts_run_no_script(live, browser, question_id):
    _, base = live
    context, page = sign_in(browser, base, AGENT)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    for path, name in ((f"/community/q/{question_id}", "question"), ("/community", "index"),
                       ("/community/printers", "topic"), ("/community/moderation/", "moderation")):
        page.goto(base + path)
        assert "<script>" in page.locator("main").inner_text(), path  # shown as text
        _no_script_ran(page, dialogs)
        shot(page, f"community-hostile-{name}")
    page.goto(base + f"/community/q/{question_id}")
    links = page.locator("main .post-body a", has_text="click me")
    assert links.count() == 2  # the question's and the answer's, without their javascript: address
    for index in range(links.count()):
        assert links.nth(index).get_attribute("href") is None
        assert links.nth(index).get_attribute("rel") == "nofollow ugc"
        links.nth(index).click()
        _no_script_ran(page, dialogs)
    assert page.locator("main img").count() == 0
    context.close()
