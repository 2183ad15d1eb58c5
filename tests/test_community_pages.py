"""The community pages: anonymous reading, posting when signed in, votes and accepting, a private topic that
another organisation cannot reach at any address, moderation by agents only, merging, holding first posts, the
posting rate limit, followers' e-mail, hostile posts escaped, and forms that keep what was typed."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kb.helpdesk import community as cm
from kb.helpdesk.accounts import find_organisation
from kb.helpdesk.community_models import Answer, Question, Report, Revision, Topic
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import User
from tests.portal import post, sign_in
from tests.test_mail_notifications import ADMIN, AGENT, mail_app

ANN, BOB, OZ = "ann@acme.example", "bob@acme.example", "oz@other.example"
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def app(portal_index, portal_settings):
    app = mail_app(portal_index, portal_settings)
    with app.extensions["kb.db"].begin() as session:
        acme = find_organisation(session, "Acme")
        session.add(Topic(slug="acme-only", title="Acme only", organisation_id=acme.id))
    return app


def client_of(app, email: str | None = None):
    client = app.test_client()
    assert client.get("/community").status_code == 200  # makes the category topics
    if email:
        assert sign_in(client, email).status_code == 302
    return client


def ask(client, slug: str = "printers", title: str = "Printer offline", body: str = "Since **Monday**") -> int:
    """Post a question past the step that shows what may answer it ("checked", as the page's script sets it)."""
    response = post(client, f"/community/{slug}/ask", {"title": title, "body": body, "checked": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/community/q/(\d+)", response.headers["Location"]).group(1))


def answer(client, question: int, body: str = "Restart it") -> int:
    response = post(client, f"/community/q/{question}/answer", {"body": body})
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"#a(\d+)", response.headers["Location"]).group(1))


def row(app, model, row_id: int):
    with app.extensions["kb.db"]() as db:
        found = db.get(model, row_id)
        db.expunge_all()
        return found


def test_anyone_reads_a_public_topic_and_only_signed_in_users_post(app):
    ann = client_of(app, ANN)
    question = ask(ann)
    anonymous = client_of(app)
    home = anonymous.get("/").get_data(as_text=True)
    assert 'href="/community"' in home
    listing = anonymous.get("/community").get_data(as_text=True)
    assert "Printer offline" in listing and 'href="/community/printers"' in listing and "Acme only" not in listing
    assert "Printer offline" in anonymous.get("/community/printers").get_data(as_text=True)
    page = anonymous.get(f"/community/q/{question}").get_data(as_text=True)
    assert "<strong>Monday</strong>" in page and "Sign in to answer" in page and "ann@acme.example" not in page
    assert anonymous.get("/community/printers/ask").headers["Location"].startswith("/sign-in")
    refused = post(anonymous, f"/community/q/{question}/answer", {"body": "anonymous"})
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/sign-in")
    with app.extensions["kb.db"]() as db:
        assert db.scalar(select(Answer.id)) is None


def test_the_ask_form_says_who_reads_it_and_keeps_what_was_typed(app):
    ann = client_of(app, ANN)
    assert "public: every visitor" in ann.get("/community/printers/ask").get_data(as_text=True)
    assert "seen by everyone in Acme" in ann.get("/community/acme-only/ask").get_data(as_text=True)
    bad = post(ann, "/community/printers/ask", {"title": "", "body": "Typed details stay"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Typed details stay" in page and "Your question: please fill this in." in page
    long = post(ann, "/community/printers/ask", {"title": "x" * 201, "body": "b"})
    assert long.status_code == 400 and "at most 200 characters" in long.get_data(as_text=True)
    question = ask(ann)
    empty = post(ann, f"/community/q/{question}/answer", {"body": " "})
    assert empty.status_code == 400 and "Your answer: please fill this in." in empty.get_data(as_text=True)
    too_long = post(ann, f"/community/q/{question}/answer", {"body": "typed " * 4000})
    assert too_long.status_code == 400 and "typed typed" in too_long.get_data(as_text=True)


def test_votes_accept_and_official_answers(app):
    ann, bob, oz, agent = (client_of(app, who) for who in (ANN, BOB, OZ, AGENT))
    question = ask(ann)
    first = answer(bob, question, "Restart it")
    official = answer(agent, question, "Update the driver")
    post(oz, f"/community/a/{first}/vote")
    post(ann, f"/community/a/{first}/vote")
    assert row(app, Answer, first).score == 2
    own = post(bob, f"/community/a/{first}/vote", follow_redirects=True).get_data(as_text=True)
    assert "cannot vote for your own answer" in own and row(app, Answer, first).score == 2
    post(oz, f"/community/a/{first}/vote")
    assert row(app, Answer, first).score == 2
    page = oz.get(f"/community/q/{question}").get_data(as_text=True)
    assert page.index('id="a%d"' % first) < page.index('id="a%d"' % official)  # by votes
    assert re.search(r'Alex <span class="badge official">Official</span>', page)
    assert post(bob, f"/community/a/{official}/accept").status_code == 403
    assert row(app, Question, question).accepted_answer_id is None
    post(ann, f"/community/a/{official}/accept")
    assert row(app, Question, question).accepted_answer_id == official
    page = oz.get(f"/community/q/{question}").get_data(as_text=True)
    assert page.index('id="a%d"' % official) < page.index('id="a%d"' % first)  # accepted first
    assert "Accepted answer" in page


def test_another_organisations_private_topic_is_404_at_every_address(app):
    ann, oz = client_of(app, ANN), client_of(app, OZ)
    question = ask(ann, "acme-only", "Acme printer", "Acme only")
    reply = answer(ann, question, "Acme answer")
    anonymous = client_of(app)
    for client in (oz, anonymous):
        assert "Acme printer" not in client.get("/community").get_data(as_text=True)
        for path in ("/community/acme-only", f"/community/q/{question}"):
            assert client.get(path).status_code == 404, path
    for path in ("/community/acme-only/ask", f"/community/q/{question}/edit", f"/community/a/{reply}/edit"):
        assert oz.get(path).status_code == 404, path
    for path, data in ((f"/community/q/{question}/answer", {"body": "x"}), (f"/community/a/{reply}/vote", {}),
                       (f"/community/a/{reply}/accept", {}), (f"/community/q/{question}/follow", {}),
                       (f"/community/q/{question}/report", {"reason": "x"}), (f"/community/a/{reply}/report",
                                                                              {"reason": "x"}),
                       ("/community/acme-only/ask", {"title": "t", "body": "b"})):
        assert post(oz, path, data).status_code == 404, path
    assert client_of(app, BOB).get(f"/community/q/{question}").status_code == 200
    assert client_of(app, AGENT).get(f"/community/q/{question}").status_code == 200


def test_agents_moderate_and_customers_cannot(app):
    ann, bob, agent = client_of(app, ANN), client_of(app, BOB), client_of(app, AGENT)
    question = ask(ann)
    assert bob.get("/community/moderation/").status_code == 404
    assert post(bob, f"/community/moderation/q/{question}/hide").status_code == 404
    assert agent.get("/community/moderation/").status_code == 200
    post(agent, f"/community/moderation/q/{question}/hide")
    assert bob.get(f"/community/q/{question}").status_code == 404
    assert ann.get(f"/community/q/{question}").status_code == 200  # its author still sees it
    post(agent, f"/community/moderation/q/{question}/show")
    post(agent, f"/community/moderation/q/{question}/lock")
    assert post(bob, f"/community/q/{question}/answer", {"body": "late"}).status_code == 403
    assert "locked" in bob.get(f"/community/q/{question}").get_data(as_text=True)
    post(agent, f"/community/moderation/q/{question}/move", {"topic": "acme-only"})
    assert client_of(app, OZ).get(f"/community/q/{question}").status_code == 404


def test_a_merged_question_redirects_and_its_answers_move(app):
    ann, bob, agent = client_of(app, ANN), client_of(app, BOB), client_of(app, AGENT)
    target = ask(ann, title="Printer offline")
    duplicate = ask(bob, title="Printer is offline")
    moved = answer(agent, duplicate, "Update the driver")
    bad = post(agent, f"/community/moderation/q/{duplicate}/merge", {"target": "99999"}, follow_redirects=True)
    assert "no such question" in bad.get_data(as_text=True)
    assert post(agent, f"/community/moderation/q/{duplicate}/merge", {"target": str(target)}).status_code == 302
    response = client_of(app).get(f"/community/q/{duplicate}")
    assert response.status_code == 301 and response.headers["Location"] == f"/community/q/{target}"
    assert f'id="a{moved}"' in ann.get(f"/community/q/{target}").get_data(as_text=True)


def test_edits_keep_history(app):
    ann, bob = client_of(app, ANN), client_of(app, BOB)
    question = ask(ann)
    reply = answer(bob, question)
    assert ann.get(f"/community/a/{reply}/edit").status_code == 403
    assert post(bob, f"/community/a/{reply}/edit", {"body": "Restart it twice"}).status_code == 302
    assert post(ann, f"/community/q/{question}/edit", {"title": "Printer still offline", "body": ""}).status_code == 400
    assert post(ann, f"/community/q/{question}/edit", {"title": "Printer still offline", "body": "b"}).status_code == 302
    page = bob.get(f"/community/a/{reply}/edit").get_data(as_text=True)
    assert "Earlier versions" in page and "Restart it</pre>" in page
    with app.extensions["kb.db"]() as db:
        assert db.scalars(select(Revision.old_title).where(Revision.question_id == question)).all() == \
            ["Printer offline"]


def test_first_posts_are_held_until_an_agent_approves(portal_index, portal_settings):
    from dataclasses import replace

    app = mail_app(portal_index, replace(portal_settings, community_hold_first_posts=1))
    ann, bob, agent = client_of(app, ANN), client_of(app, BOB), client_of(app, AGENT)
    question = ask(ann)
    assert bob.get(f"/community/q/{question}").status_code == 404
    assert "Waiting for review" in ann.get(f"/community/q/{question}").get_data(as_text=True)
    assert "Printer offline" in agent.get("/community/moderation/").get_data(as_text=True)
    post(agent, f"/community/moderation/q/{question}/release", {"back": "queue"})
    assert bob.get(f"/community/q/{question}").status_code == 200
    held = answer(bob, question, "Held answer")
    assert f'id="a{held}"' not in ann.get(f"/community/q/{question}").get_data(as_text=True)

    def mailed():
        with app.extensions["kb.db"]() as db:
            return db.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "community_answer")).all()
    assert mailed() == []  # the follower hears of it once it is shown
    post(agent, f"/community/moderation/a/{held}/release")
    assert f'id="a{held}"' in ann.get(f"/community/q/{question}").get_data(as_text=True)
    assert mailed() == [ANN]


def test_posting_is_rate_limited(portal_index, portal_settings):
    from dataclasses import replace

    app = mail_app(portal_index, replace(portal_settings, rate_limit_community_posts="2/hour"))
    ann = client_of(app, ANN)
    question = ask(ann)
    answer(ann, question, "one more detail")
    assert post(ann, f"/community/q/{question}/answer", {"body": "a third post"}).status_code == 429


def test_reading_counts_with_article_views(portal_index, portal_settings):
    from dataclasses import replace

    app = mail_app(portal_index, replace(portal_settings, rate_limit_views="3/minute"))
    reader = app.test_client()
    assert [reader.get(path).status_code for path in ("/community", "/community/printers", "/community/q/1",
                                                      "/community")] == [200, 200, 404, 429]


def test_followers_are_mailed_new_answers_and_see_them_marked_new(app):
    ann, bob = client_of(app, ANN), client_of(app, BOB)
    question = ask(ann)
    reply = answer(bob, question, "Restart it")
    with app.extensions["kb.db"]() as db:
        (message,) = db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "community_answer")).all()
        assert message.to_address == ANN and "Restart it" in message.text_body
        assert f"/community/q/{question}#a{reply}" in message.text_body
    page = ann.get(f"/community/q/{question}").get_data(as_text=True)
    assert re.search(rf'id="a{reply}">.*?badge new', page, re.S)
    assert "badge new" not in ann.get(f"/community/q/{question}").get_data(as_text=True)  # read now
    post(ann, f"/community/q/{question}/unfollow")
    answer(bob, question, "Or update the driver")
    with app.extensions["kb.db"]() as db:
        assert len(db.scalars(select(OutboxMessage).where(OutboxMessage.kind == "community_answer")).all()) == 1


def test_hostile_posts_are_escaped_everywhere_and_links_are_ugc(app):
    ann, bob, agent = client_of(app, ANN), client_of(app, BOB), client_of(app, AGENT)
    question = ask(ann, title=HOSTILE, body=HOSTILE + "\n\n[site](https://example.com)")
    reply = answer(bob, question, HOSTILE)
    post(bob, f"/community/q/{question}/report", {"reason": HOSTILE})
    post(bob, f"/community/a/{reply}/report", {"reason": HOSTILE})
    with app.extensions["kb.db"]() as db:
        assert len(db.scalars(select(Report)).all()) == 2
    too_long = post(bob, f"/community/a/{reply}/report", {"reason": "kept " * 120})
    page = too_long.get_data(as_text=True)
    assert too_long.status_code == 400 and "kept kept" in page and "Reason: at most 500 characters" in page
    assert re.search(rf'<details class="report" open>.*?action="/community/a/{reply}/report"', page, re.S)
    pages = [ann.get(f"/community/q/{question}"), ann.get("/community"), ann.get("/community/printers"),
             agent.get("/community/moderation/"), bob.get(f"/community/a/{reply}/edit"),
             ann.get(f"/community/q/{question}/edit")]
    for response in pages:
        text = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<script>alert" not in text and "<img src=x" not in text and "&lt;script&gt;" in text
    question_page = pages[0].get_data(as_text=True)
    assert '<a href="https://example.com" rel="nofollow ugc">site</a>' in question_page


def test_topic_listing_filters_unanswered(app):
    ann, agent = client_of(app, ANN), client_of(app, AGENT)
    solved, open_ = ask(ann, title="Solved one"), ask(ann, title="Open one")
    post(ann, f"/community/a/{answer(agent, solved)}/accept")
    unanswered = ann.get("/community/printers?show=unanswered").get_data(as_text=True)
    assert "Open one" in unanswered and "Solved one" not in unanswered
    assert "2 questions, 1 unanswered" in ann.get("/community").get_data(as_text=True)
    with app.extensions["kb.db"]() as db:
        user = db.scalar(select(User).where(User.email == ANN))
        assert [q.title for q in cm.recent_questions(db, user)] == ["Open one", "Solved one"]
    assert open_ > solved


def test_odd_addresses_and_forms_answer_without_an_error(app):
    ann, agent = client_of(app, ANN), client_of(app, AGENT)
    question = ask(ann)
    assert client_of(app).get("/community/printers?page=2").status_code == 200
    for path in ("/community/q/99999999999999999999999", "/community/a/99999999999999999999999/edit",
                 "/community/" + "x" * 5000):
        assert ann.get(path).status_code == 404, path
    for path in ("/community/printers?page=99999999999999999999", "/community/printers?page=-5",
                 "/community/printers?show=<b>"):
        assert ann.get(path).status_code == 200, path
    merge = post(agent, f"/community/moderation/q/{question}/merge", {"target": "99999999999999999999999"},
                 follow_redirects=True)
    assert "no such question" in merge.get_data(as_text=True)
    moved = post(agent, f"/community/moderation/q/{question}/move", {"topic": "nope"}, follow_redirects=True)
    assert "Not a valid choice" in moved.get_data(as_text=True)
    assert post(agent, "/community/moderation/topics", {"slug": "x", "title": "t"}).status_code == 404
    admin = client_of(app, ADMIN)
    bad = post(admin, "/community/moderation/topics", {"slug": "Bad Slug", "title": "Kept title", "organisation": ""})
    assert bad.status_code == 400 and "Kept title" in bad.get_data(as_text=True)
    taken = post(admin, "/community/moderation/topics", {"slug": "printers", "title": "t", "organisation": ""})
    assert taken.status_code == 400 and "not taken by another topic" in taken.get_data(as_text=True)
    made = post(admin, "/community/moderation/topics", {"slug": "office-moves", "title": "Office moves", "organisation": ""})
    assert made.headers["Location"] == "/community/office-moves"
