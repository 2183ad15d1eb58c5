"""Asked before it is posted: the ask form's suggestions (GET /community/suggest) list only answered questions the
asker may read (never another organisation's private ones, never hidden or held ones to customers), the accepted
ones first, beside the articles; without JavaScript the first submit shows them and keeps what was typed."""
from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from kb.helpdesk import community as cm
from kb.helpdesk.community_models import Question
from kb.helpdesk.community_search import answered_like, words_of
from kb.helpdesk.models import User
from tests.portal import post
from tests.test_community_pages import ANN, BOB, OZ, client_of
from tests.test_mail_notifications import ADMIN, AGENT, mail_app


def _user(db, email: str) -> User:
    return db.scalar(select(User).where(User.email == email))


def seed(app) -> dict[str, int]:
    """Questions about offline printers in every state, by name: their ids."""
    ids = {}
    with app.extensions["kb.db"].begin() as db:
        cm.ensure_category_topics(db, {"printers": "Printers"})
        cm.add_topic(db, _user(db, ADMIN), "acme-only", "Acme only",
                     organisation_id=_user(db, ANN).organisation_id)
        printers, acme = cm.find_topic(db, None, "printers"), cm.find_topic(db, _user(db, ANN), "acme-only")
        ann, bob, agent = _user(db, ANN), _user(db, BOB), _user(db, AGENT)

        def asked(name, topic, title, answered_by=None, accept=False):
            question = cm.ask(db, bob, topic, title, "It says offline.")
            if answered_by is not None:
                reply = cm.answer(db, answered_by, question, "Turn it off and on.")
                if accept:
                    cm.accept(db, bob, reply)
            ids[name] = question.id
            return question

        asked("official", printers, "Printer offline on Wi-Fi", agent)
        asked("accepted", printers, "Printer offline after the update", ann, accept=True)
        asked("unanswered", printers, "Printer offline every morning")
        asked("customer-only", printers, "Printer offline since Monday", ann)  # neither accepted nor official
        asked("private", acme, "Printer offline in the Acme office", agent)
        asked("hidden", printers, "Printer offline hidden one", agent).hidden = True
        asked("held", printers, "Printer offline held one", agent).held = True
        asked("other", printers, "Scanner jams paper", agent)
        asked("russian", printers, "Принтер не ПЕЧАТАЕТ после обновления", agent)
        gone = asked("answer-hidden", printers, "Printer offline answer hidden", ann, accept=True)
        gone.answers[0].hidden = True  # its accepted answer hidden since: no longer answered to customers
    return ids


@pytest.fixture
def app(portal_index, portal_settings):
    return mail_app(portal_index, portal_settings)


def suggested(client, q: str, **params) -> dict:
    response = client.get("/community/suggest", query_string={"q": q, **params})
    assert response.status_code == 200
    return response.get_json()


def test_only_answered_questions_the_asker_may_read_are_suggested(app):
    ids = seed(app)
    names = {v: k for k, v in ids.items()}

    def seen(email):
        data = suggested(client_of(app, email), "My printer is offline", topic="printers")
        assert all(item["kind"] == "community" for item in data["questions"])
        return [names[item["id"]] for item in data["questions"]]

    assert seen(None) == ["accepted", "official"]  # anonymous: the public ones, the accepted answer first
    assert seen(OZ) == ["accepted", "official"]  # another organisation: never Acme's private question
    assert seen(BOB) == ["accepted", "official", "private"]  # hidden and held ones never, even to their author
    assert seen(ANN) == ["accepted", "official", "private"]
    assert len(seen(AGENT)) == 5  # at most five
    with app.extensions["kb.db"]() as db:
        staff = {names[m.question.id] for m in answered_like(db, _user(db, AGENT), "My printer is offline", limit=9)}
    assert staff == {"accepted", "official", "private", "hidden", "held", "answer-hidden"}


def test_the_suggestions_hold_articles_and_questions_with_their_addresses(app):
    ids = seed(app)
    data = suggested(client_of(app), "Printer offline", body="since the update")
    assert [a["title"] for a in data["articles"]][:1] == ["Printer shows Offline"]
    assert all(a["kind"] == "article" for a in data["articles"])
    first = data["questions"][0]
    assert first == {"kind": "community", "id": ids["accepted"], "title": "Printer offline after the update",
                     "answer": "accepted", "topic": "Printers", "url": f"/community/q/{ids['accepted']}"}
    assert suggested(client_of(app), "pr") == {"query": "pr", "articles": [], "questions": []}
    assert suggested(client_of(app), "printe_ offli%")["questions"] == []  # LIKE wildcards are only text
    assert suggested(client_of(app), "x" * 5000, topic="no-such-topic")["questions"] == []
    odd = client_of(app).get("/community/suggest?q=%00offline%ED%A0%80%25&topic=%00printers")
    assert odd.status_code == 200 and odd.get_json()["questions"][0]["id"] == ids["accepted"]


def test_title_words_match_and_stop_words_do_not(app):
    ids = seed(app)
    assert words_of("How do I fix the printer, the PRINTER? 42") == ["fix", "printer"]
    with app.extensions["kb.db"]() as db:
        assert answered_like(db, None, "what is this about") == []
        assert [m.question.id for m in answered_like(db, None, "scanner")] == [ids["other"]]
        assert answered_like(db, None, "scanner offline") == []  # two words asked: a title holding one is no match
        # Cyrillic words in another case than the title's (SQLite's LIKE folds ASCII letters only)
        assert [m.question.id for m in answered_like(db, None, "принтер печатает")] == [ids["russian"]]
        assert [m.question.id for m in answered_like(db, None, "ПРИНТЕР ОБНОВЛЕНИЯ")] == [ids["russian"]]


def test_suggestions_are_rate_limited_like_the_contact_forms(portal_index, portal_settings):
    app = mail_app(portal_index, replace(portal_settings, rate_limit_suggest="2/minute"))
    client = app.test_client()
    codes = [client.get("/community/suggest", query_string={"q": "printer offline"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_without_javascript_the_first_submit_shows_matches_and_keeps_what_was_typed(app, monkeypatch):
    ids = seed(app)
    ann = client_of(app, ANN)
    with app.extensions["kb.db"]() as db:
        before = db.scalar(select(func.count()).select_from(Question))
    step = post(ann, "/community/printers/ask", {"title": "Printer offline <again>", "body": "Typed **details**"})
    page = step.get_data(as_text=True)
    assert step.status_code == 200 and "Post anyway" in page
    assert 'value="Printer offline &lt;again&gt;"' in page and "Typed **details**" in page
    assert f'href="/community/q/{ids["accepted"]}"' in page and "Printer shows Offline" in page
    assert re.search(r'<input id="ask-checked" name="checked" type="hidden" value="1">', page)
    with app.extensions["kb.db"]() as db:
        assert db.scalar(select(func.count()).select_from(Question)) == before  # nothing posted yet
    posted = post(ann, "/community/printers/ask", {"title": "Printer offline <again>", "body": "Typed **details**",
                                                   "checked": "1"})
    assert posted.status_code == 302 and "/community/q/" in posted.headers["Location"]
    # Nothing like it (no question, and a search sure of no article): posted at once.
    from web import community_suggest
    from web.suggestions import Suggestions
    monkeypatch.setattr(community_suggest, "suggest", lambda text, **kwargs: Suggestions(text))
    fresh = post(ann, "/community/printers/ask", {"title": "Zebra xylophone quandary", "body": "Qwerty zugzwang"})
    assert fresh.status_code == 302
