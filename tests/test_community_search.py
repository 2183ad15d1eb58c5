"""Community answers searched beside the articles: which questions are indexed (public, answered well enough,
never private or hidden), one refresh pass makes a newly accepted answer searchable, the merge keeps articles
above community answers of equal relevance, every list marks them, and only an endorsed one is a confident
suggestion."""
from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from kb.helpdesk import community as cm
from kb.helpdesk import community_moderation as mod
from kb.helpdesk.community_models import Topic
from kb.helpdesk.community_threads import Thread, searchable_threads, set_endorsed
from kb.helpdesk.models import User
from kb.errors import CommunityForbidden
from search.community import CommunityHit, CommunityIndex, Refresh, merge, within_list
from search.service import Hit
from tests.portal import post, sign_in
from tests.test_mail_notifications import ADMIN, AGENT, mail_app
from web.community_search import community_index
from web.community_worker import CommunityWorker

ANN, BOB, OZ = "ann@acme.example", "bob@acme.example", "oz@other.example"
QUESTION = "Toner smudges every page"
REPLY = "Shake the toner cartridge gently and run the cleaning cycle from the printer menu."


# --- the index and the merge, without a database ----------------------------------------------------------------

class CountingEmbed:
    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        rng = [np.random.default_rng(abs(hash(t)) % 2**32).normal(size=8) for t in texts]
        return np.array(rng, dtype=np.float32)


def thread(qid: int, text: str, endorsed: bool = False) -> Thread:
    return Thread(qid, f"q{qid}", text, True, endorsed, "answer")


def test_a_pass_embeds_only_new_or_changed_texts_and_drops_what_left():
    index, embed = CommunityIndex(), CountingEmbed()
    assert index.refresh([thread(1, "a"), thread(2, "b")], embed, "m") == Refresh(2, 2, 0)
    assert index.refresh([thread(1, "a"), thread(2, "b2"), thread(3, "c")], embed, "m") == Refresh(3, 2, 0)
    assert embed.texts == ["a", "b", "b2", "c"]
    assert index.refresh([thread(3, "c")], embed, "m") == Refresh(1, 0, 2)
    assert index.refresh([thread(3, "c")], embed, "other model") == Refresh(1, 1, 0)  # another model: embedded again
    assert [h.question_id for h in index.search(embed(["c"])[0], 5, 0.0, -1.0)] == [3]


def test_search_is_an_exact_nearest_neighbour_search_with_a_floor():
    index, embed = CommunityIndex(), CountingEmbed()
    texts = [f"text {i}" for i in range(20)]
    index.refresh([thread(i, t) for i, t in enumerate(texts)], embed, "m")
    vectors = embed(texts)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[7] + 0.1 * vectors[3]
    found = index.search(query, 4, 0.05, -1.0)
    brute = np.argsort(-(vectors @ (query / np.linalg.norm(query))))[:4]
    assert [h.question_id for h in found] == brute.tolist()
    assert found[0].score == pytest.approx(found[0].cosine - 0.05)
    assert all(h.cosine >= 0.5 for h in index.search(query, 20, 0.0, 0.5))
    assert len(index.search(query, 20, 0.0, 0.5)) < 20


def article(key: str, cosine: float) -> Hit:
    return Hit(key, key, "c", 1.0, parts={"vector": cosine})


def community(qid: int, score: float) -> CommunityHit:
    return CommunityHit(qid, f"q{qid}", score, score + 0.05, False, True)


def test_community_hits_come_below_articles_of_equal_or_greater_relevance():
    articles = [article("a", 0.9), article("b", 0.7), article("c", 0.6)]
    merged = merge(articles, [community(1, 0.7), community(2, 0.95), community(3, 0.1)])
    assert [getattr(h, "question_id", None) or h.id for h in merged] == [2, "a", "b", 1, "c", 3]
    assert merge(articles, []) == articles


def test_community_hits_never_lengthen_a_list_and_need_the_floor_without_one():
    hits = [community(1, 0.8), community(2, 0.55), community(3, 0.3)]
    assert [h.question_id for h in within_list(hits, [article("a", 0.9), article("b", 0.5)], 0.99)] == [1, 2]
    assert [h.question_id for h in within_list(hits, [], 0.7)] == [1]  # cosines 0.85, 0.6, 0.35


# --- the database, the worker and the pages ---------------------------------------------------------------------

@pytest.fixture
def app(portal_index, portal_settings):
    app = mail_app(portal_index, portal_settings)
    with app.extensions["kb.db"].begin() as db:
        acme = db.scalar(select(User).where(User.email == ANN)).organisation_id
        db.add(Topic(slug="printers", title="Printers", category="printers"))
        db.add(Topic(slug="acme-only", title="Acme only", organisation_id=acme))
    return app


def user(db, email: str) -> User:
    return db.scalar(select(User).where(User.email == email))


def topic(db, slug: str) -> Topic:
    return db.scalar(select(Topic).where(Topic.slug == slug))


def thread_in(app, slug: str = "printers", title: str = QUESTION, reply: str = REPLY,
              accept: bool = True) -> tuple[int, int]:
    """A question by ann with bob's answer, accepted by ann: (question id, answer id)."""
    with app.extensions["kb.db"].begin() as db:
        question = cm.ask(db, user(db, ANN), topic(db, slug), title, "It started this week.")
        answer = cm.answer(db, user(db, BOB), question, reply)
        if accept:
            cm.accept(db, user(db, ANN), answer)
        return question.id, answer.id


def one_pass(app) -> None:
    assert CommunityWorker(app, interval=30).run_pass() is not None


def searchable(app, min_votes: int = 2) -> list[int]:
    with app.extensions["kb.db"]() as db:
        return [t.question_id for t in searchable_threads(db, min_votes)]


def test_only_public_well_answered_visible_questions_are_searchable(app):
    accepted, _ = thread_in(app)
    private, _ = thread_in(app, "acme-only", "Acme badge printer")
    unaccepted, answer = thread_in(app, title="Paper jams in tray two", accept=False)
    assert searchable(app) == [accepted]
    with app.extensions["kb.db"].begin() as db:  # two up-votes make the unaccepted one count
        reply = db.get(cm.Answer, answer)
        cm.vote(db, user(db, ANN), reply)
        cm.vote(db, user(db, "meg@acme.example"), reply)
    assert searchable(app) == [accepted, unaccepted]
    assert searchable(app, min_votes=3) == [accepted]
    with app.extensions["kb.db"].begin() as db:
        mod.set_hidden(db, user(db, AGENT), db.get(cm.Question, accepted), True)
    assert searchable(app) == [unaccepted]
    assert private not in searchable(app, min_votes=1)


def test_an_agent_endorses_an_answer_and_a_customer_cannot(app):
    question, answer = thread_in(app, accept=False)
    assert searchable(app) == []
    with app.extensions["kb.db"].begin() as db:
        with pytest.raises(CommunityForbidden):
            set_endorsed(db, user(db, ANN), db.get(cm.Answer, answer), True)
    agent = app.test_client()
    assert sign_in(agent, AGENT).status_code == 302
    page = agent.get(f"/community/q/{question}").get_data(as_text=True)
    assert f"/community/moderation/a/{answer}/endorse" in page
    assert post(agent, f"/community/moderation/a/{answer}/endorse").status_code == 302
    assert searchable(app) == [question]
    assert "Endorsed by support" in agent.get(f"/community/q/{question}").get_data(as_text=True)
    customer = app.test_client()
    assert sign_in(customer, ANN).status_code == 302
    assert post(customer, f"/community/moderation/a/{answer}/unendorse").status_code == 404
    assert searchable(app) == [question]


def test_a_newly_accepted_answer_is_searchable_after_one_pass_and_a_hidden_one_goes(app):
    client = app.test_client()
    one_pass(app)
    before = client.get("/api/search", query_string={"q": QUESTION}).get_json()
    assert all(r["kind"] == "article" for r in before["results"])
    question, _ = thread_in(app)
    one_pass(app)
    found = client.get("/api/search", query_string={"q": QUESTION}).get_json()["results"]
    hits = [r for r in found if r["kind"] == "community"]
    assert [h["id"] for h in hits] == [question] and hits[0]["url"] == f"/community/q/{question}"
    page = client.get("/search", query_string={"q": QUESTION}).get_data(as_text=True)
    assert "Community answer" in page and f'href="/community/q/{question}"' in page
    with app.extensions["kb.db"].begin() as db:
        mod.set_hidden(db, user(db, AGENT), db.get(cm.Question, question), True)
    one_pass(app)
    after = client.get("/api/search", query_string={"q": QUESTION}).get_json()["results"]
    assert all(r["kind"] == "article" for r in after)
    assert len(community_index(app)) == 0


def test_a_private_topics_answer_never_reaches_a_search(app):
    thread_in(app, "acme-only", QUESTION)
    one_pass(app)
    client = app.test_client()
    assert sign_in(client, ANN).status_code == 302  # not even its own organisation's customers: searches are shared
    results = client.get("/api/search", query_string={"q": QUESTION}).get_json()["results"]
    assert all(r["kind"] == "article" for r in results)
    assert QUESTION not in client.get("/search", query_string={"q": QUESTION}).get_data(as_text=True).split("</h1>", 1)[1]


def suggestions(client, text: str) -> dict:
    return client.get("/api/suggest", query_string={"q": text}).get_json()


UNSURE = "Calendar invites arrive twice"  # no article of the small help center answers it confidently


def test_only_an_endorsed_community_answer_is_a_confident_suggestion(app):
    question, answer = thread_in(app, title=UNSURE, reply="Remove the second calendar subscription.")
    one_pass(app)
    client = app.test_client()
    plain = suggestions(client, UNSURE)
    assert not plain["confident"] and plain["suggestions"] == []
    with app.extensions["kb.db"].begin() as db:
        set_endorsed(db, user(db, AGENT), db.get(cm.Answer, answer), True)
    one_pass(app)
    endorsed = suggestions(client, UNSURE)
    assert endorsed["confident"]
    assert [(s["kind"], s["id"], s["url"]) for s in endorsed["suggestions"]] == \
        [("community", question, f"/community/q/{question}")]


def test_articles_still_come_first_for_their_own_questions_with_community_threads_about_them(portal_index):
    """Each public article's questions (the phrasings its golden queries are made of) are asked in the community too,
    answered by a link to the article. Asked again in other words, each article found first without them stays
    first with every near community thread merged in (not even cut by `within_list`), the thread asking the same
    question among them."""
    settings, service = portal_index
    public = {key: meta for key, meta in service.articles.items() if meta.audience == "public"}
    threads = [Thread(n, q, f"Help: {q}\nAnyone?\nSee {meta.title}", True, False, f"See {meta.title}")
               for n, (q, meta) in enumerate(((q, m) for m in public.values() for q in m.questions), start=1)]
    index = CommunityIndex()
    index.refresh(threads, lambda texts: service.embed_queries(texts, keep=False), service.manifest.model_name)
    own = {t.title: t.question_id for t in threads}
    checked = 0
    for key, meta in public.items():
        for question in meta.questions:
            query = f"{question} please, since this morning"
            hits = service.search(query).hits
            if not hits or hits[0].id != key:
                continue  # not first without the community either: nothing to keep
            found = index.search(service.embed_queries([query], keep=False)[0], 3, settings.community_search_penalty,
                                 -1.0)
            assert own[question] in [h.question_id for h in found]
            merged = merge(hits, found)
            assert getattr(merged[0], "id", None) == key, (query, merged[:2])
            checked += 1
    assert checked == len(threads) == 6


def test_the_contact_form_without_javascript_marks_an_endorsed_community_answer(app):
    question, answer = thread_in(app, title=UNSURE, reply="Remove the second calendar subscription.")
    with app.extensions["kb.db"].begin() as db:
        set_endorsed(db, user(db, AGENT), db.get(cm.Answer, answer), True)
    one_pass(app)
    client = app.test_client()
    assert sign_in(client, ANN).status_code == 302
    page = post(client, "/contact", {"subject": "", "description": UNSURE, "step": "suggest"}).get_data(as_text=True)
    item = page.split('class="suggestion community-hit"', 1)[1].split("</li>", 1)[0]
    assert f'href="/community/q/{question}"' in item and "Community answer" in item
    assert 'name="article_id"' not in item  # no "This solved my problem" for a question's page


def test_the_serving_thread_runs_passes_until_closed(app):
    thread_in(app)
    worker = CommunityWorker(app, interval=0.01).start()
    try:
        assert worker.passed.wait(30)
    finally:
        worker.close()
    assert len(community_index(app)) == 1 and app.extensions["kb.community_worker"] is worker
