"""Community questions and answers without Flask: who reads what, posting, edit history, votes, accepting,
following, holding a new member's first posts, moderation and merging, and how posts' Markdown is rendered."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from kb.errors import CommunityError, CommunityForbidden
from kb.helpdesk import community as cm
from kb.helpdesk import community_moderation as mod
from kb.helpdesk.accounts import add_organisation, add_staff, add_user
from kb.helpdesk.community_models import ANSWERED, OPEN, Follow, Report, Revision
from kb.helpdesk.models import Base, User
from kb.markdown_html import render_post


@pytest.fixture
def db():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        for org in ("Acme", "Other"):
            add_organisation(session, org)
        for email, org in (("ann@acme.example", "Acme"), ("bob@acme.example", "Acme"), ("oz@other.example", "Other")):
            add_user(session, email, "correct horse battery", org)
        add_staff(session, "agent@desk.example", "correct horse battery", "agent")
        add_staff(session, "editor@desk.example", "correct horse battery", "editor")
        add_staff(session, "admin@desk.example", "correct horse battery", "admin")
        session.flush()
        yield session
    engine.dispose()


def user(db: Session, email: str) -> User:
    return db.scalar(select(User).where(User.email == email))


@pytest.fixture
def people(db):
    return {name: user(db, email) for name, email in (
        ("ann", "ann@acme.example"), ("bob", "bob@acme.example"), ("oz", "oz@other.example"),
        ("agent", "agent@desk.example"), ("editor", "editor@desk.example"))}


@pytest.fixture
def topics(db, people):
    cm.ensure_category_topics(db, {"printers": "Printers"})
    public = cm.find_topic(db, None, "printers")
    with pytest.raises(CommunityForbidden):
        cm.add_topic(db, people["agent"], "acme-only", "Acme only")
    private = cm.add_topic(db, user(db, "admin@desk.example"), "acme-only", "Acme only",
                           organisation_id=people["ann"].organisation_id)
    return public, private


def test_topics_come_from_categories_once(db):
    assert [t.slug for t in cm.ensure_category_topics(db, {"printers": "Printers", "VPN Access": "VPN"})] == \
        ["printers", "vpn-access"]
    assert cm.ensure_category_topics(db, {"printers": "Printers", "moderation": "Moderation"}) == []


def test_visibility_public_private_hidden_and_held(db, people, topics):
    public, private = topics
    assert cm.may_read(None, public) and cm.may_read(people["oz"], public)
    assert cm.may_read(people["ann"], private) and cm.may_read(people["agent"], private)
    assert not cm.may_read(None, private) and not cm.may_read(people["oz"], private)
    assert cm.find_topic(db, people["oz"], "acme-only") is None
    question = cm.ask(db, people["ann"], private, "Toner?", "Where is the toner")
    assert cm.find_question(db, people["oz"], question.id) is None
    assert cm.find_question(db, None, question.id) is None
    assert cm.find_question(db, people["bob"], question.id) is question
    assert [q.id for q in cm.recent_questions(db, people["oz"])] == []
    mod.set_hidden(db, people["agent"], question, True)
    assert cm.find_question(db, people["bob"], question.id) is None
    assert cm.find_question(db, people["ann"], question.id) is question  # its author
    assert cm.find_question(db, people["agent"], question.id) is question
    with pytest.raises(CommunityForbidden):
        cm.ask(db, people["oz"], private, "Mine?", "Let me in")


def test_posting_needs_a_signed_in_user_and_names_bad_fields(db, people, topics):
    public, _ = topics
    with pytest.raises(CommunityForbidden):
        cm.ask(db, None, public, "t", "b")
    for title, body, field in (("", "body", "title"), ("x" * 201, "body", "title"), ("title", "  ", "body")):
        with pytest.raises(CommunityError) as caught:
            cm.ask(db, people["ann"], public, title, body)
        assert caught.value.field == field
    question = cm.ask(db, people["ann"], public, "Printer offline", "Since Monday")
    with pytest.raises(CommunityError) as caught:
        cm.report(db, people["bob"], question, "")
    assert caught.value.field == "reason"


def test_votes_once_never_own_and_accept_rules(db, people, topics):
    public, _ = topics
    question = cm.ask(db, people["ann"], public, "Printer offline", "Since Monday")
    first = cm.answer(db, people["bob"], question, "Restart it")
    official = cm.answer(db, people["agent"], question, "Update the driver")
    assert official.official and not first.official
    with pytest.raises(CommunityError) as caught:
        cm.vote(db, people["bob"], first)
    assert caught.value.field == "vote"
    cm.vote(db, people["ann"], first)
    with pytest.raises(CommunityError):
        cm.vote(db, people["ann"], first)
    cm.vote(db, people["oz"], first)
    assert first.score == 2
    assert cm.visible_answers(None, question) == [first, official]
    with pytest.raises(CommunityForbidden):
        cm.accept(db, people["bob"], official)
    cm.accept(db, people["ann"], official)
    assert question.status == ANSWERED and question.accepted_answer_id == official.id
    assert cm.visible_answers(None, question) == [official, first]  # accepted first, then by score
    cm.accept(db, people["agent"], first)  # one accepted answer: a later choice replaces it
    assert question.accepted_answer_id == first.id
    mod.set_hidden(db, people["agent"], first, True)
    assert question.accepted_answer_id is None and question.status == OPEN
    assert cm.visible_answers(people["oz"], question) == [official]


def test_edits_keep_history_and_only_author_or_moderator_edit(db, people, topics):
    public, _ = topics
    question = cm.ask(db, people["ann"], public, "Printer offline", "Since Monday")
    reply = cm.answer(db, people["bob"], question, "Restart it")
    with pytest.raises(CommunityForbidden):
        cm.edit_answer(db, people["ann"], reply, "Mine now")
    cm.edit_answer(db, people["bob"], reply, "Restart it twice")
    cm.edit_question(db, people["agent"], question, "Printer offline since Monday", "Since Monday 9:00")
    assert [r.old_body for r in cm.revisions(db, reply)] == ["Restart it"]
    (revision,) = cm.revisions(db, question)
    assert (revision.old_title, revision.old_body, revision.editor_id) == \
        ("Printer offline", "Since Monday", people["agent"].id)
    mod.set_locked(db, people["agent"], question, True)
    with pytest.raises(CommunityForbidden):
        cm.edit_question(db, people["ann"], question, "again", "again")
    with pytest.raises(CommunityForbidden):
        cm.answer(db, people["oz"], question, "Late answer")
    assert db.scalar(select(Revision).where(Revision.old_body == "again")) is None


def test_first_posts_are_held_for_review(db, people, topics):
    public, _ = topics
    question = cm.ask(db, people["ann"], public, "Printer offline", "Since Monday", hold_first=2)
    assert question.held and cm.find_question(db, people["bob"], question.id) is None
    assert cm.find_question(db, people["ann"], question.id) is question
    reply = cm.answer(db, people["ann"], question, "More detail", hold_first=2)
    third = cm.answer(db, people["ann"], question, "Still offline", hold_first=2)
    assert reply.held and not third.held
    assert not cm.answer(db, people["agent"], question, "Staff", hold_first=2).held
    with pytest.raises(CommunityForbidden):
        mod.release(db, people["bob"], question)
    assert mod.held_posts(db, people["agent"]) == ([question], [reply])
    mod.release(db, people["agent"], question)
    assert cm.find_question(db, people["bob"], question.id) is question


def test_followers_are_told_of_new_answers_but_not_of_held_ones(db, people, topics):
    public, _ = topics
    question = cm.ask(db, people["ann"], public, "Printer offline", "Since Monday")
    cm.follow(db, people["oz"], question)
    reply = cm.answer(db, people["bob"], question, "Restart it")
    assert [u.email for u in cm.followers_to_tell(db, reply)] == ["ann@acme.example", "oz@other.example"]
    cm.unfollow(db, people["oz"], question)
    assert [u.email for u in cm.followers_to_tell(db, reply)] == ["ann@acme.example"]
    held = cm.answer(db, people["oz"], question, "Me too", hold_first=5)
    assert cm.followers_to_tell(db, held) == []
    assert cm.mark_seen(db, people["ann"], question) is not None and cm.mark_seen(db, people["oz"], question) is None


def test_merge_moves_answers_followers_and_reports(db, people, topics):
    public, private = topics
    target = cm.ask(db, people["ann"], public, "Printer offline", "Since Monday")
    duplicate = cm.ask(db, people["bob"], public, "Printer is offline", "Since today")
    moved = cm.answer(db, people["agent"], duplicate, "Update the driver")
    cm.accept(db, people["bob"], moved)
    cm.report(db, people["oz"], duplicate, "duplicate")
    with pytest.raises(CommunityForbidden):
        mod.merge(db, people["bob"], duplicate, target)
    with pytest.raises(CommunityError) as caught:
        mod.merge(db, people["agent"], duplicate, duplicate)
    assert caught.value.field == "target"
    elsewhere = cm.ask(db, people["ann"], private, "Private", "Acme only")
    with pytest.raises(CommunityError):
        mod.merge(db, people["agent"], duplicate, elsewhere)
    mod.merge(db, people["agent"], duplicate, target)
    assert duplicate.merged_into_id == target.id and moved.question_id == target.id
    assert target.accepted_answer_id == moved.id and target.status == ANSWERED
    assert set(db.scalars(select(Follow.user_id).where(Follow.question_id == target.id))) == \
        {people["ann"].id, people["bob"].id}
    assert db.scalar(select(Report.question_id)) == target.id
    assert duplicate not in cm.recent_questions(db, None)
    with pytest.raises(CommunityError):
        cm.answer(db, people["ann"], duplicate, "late")


def test_moving_a_question_and_customers_cannot_moderate(db, people, topics):
    public, private = topics
    question = cm.ask(db, people["ann"], public, "Printer offline", "Since Monday")
    for action in (lambda: mod.set_hidden(db, people["ann"], question, True),
                   lambda: mod.set_locked(db, people["ann"], question, True),
                   lambda: mod.move(db, people["ann"], question, private),
                   lambda: mod.open_reports(db, people["editor"])):
        with pytest.raises(CommunityForbidden):
            action()
    mod.move(db, people["agent"], question, private)
    assert cm.find_question(db, people["oz"], question.id) is None


def test_post_markdown_is_sanitised_demoted_and_nofollow():
    html = render_post("# Big\n\n<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n"
                       "[site](https://example.com) [bad](javascript:alert(1)) ![pic](https://example.com/p.png)")
    assert "<h4>Big</h4>" in html and "<h1" not in html
    assert "<script" not in html and "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert '<a href="https://example.com" rel="nofollow ugc">site</a>' in html
    assert "javascript:" not in html
    assert '<a href="https://example.com/p.png" rel="nofollow ugc">pic</a>' in html
