"""Drafts from community threads (`kb community draft`, and the agents' button on the question page): the title and
merged questions' titles as questions, the accepted, else official, else most voted answer as the steps, the
topic's category, the source thread noted; the written file passes `kb check`."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kb.helpdesk import community as cm
from kb.helpdesk import community_moderation as mod
from kb.helpdesk.accounts import add_organisation, add_staff, add_user
from kb.helpdesk.community_models import Question
from kb.helpdesk.db import open_database
from kb.helpdesk.models import User
from tests.portal import post, sign_in
from tests.test_drafts import front_and_body, run


@pytest.fixture
def url(database_url: str) -> str:
    return database_url


def thread(url: str, title: str, *answers: tuple[str, str], accept: int | None = None, topic: str = "printers",
           body: str = "It says offline since Monday.") -> int:
    """A question by ann in `topic` (made from the category of that name), with answers (author, body): 'bob' a
    customer, 'ed' an agent (official); `accept`: the index of the answer ann accepts. Returns its id."""
    _, sessions = open_database(url)
    with sessions.begin() as db:
        if db.scalar(select(User.id)) is None:
            add_organisation(db, "Acme")
            add_user(db, "ann@acme.example", "password-ann", "Acme")
            add_user(db, "bob@acme.example", "password-bob", "Acme")
            add_staff(db, "ed@desk.example", "password-ed")
        people = {u.email.split("@")[0]: u for u in db.scalars(select(User))}
        cm.ensure_category_topics(db, {"printers": "Printers", "accounts": "Accounts"})
        found = cm.find_topic(db, people["ann"], topic)
        if found is None:
            found = cm.add_topic(db, _admin(db), topic, "Loose talk")
        question = cm.ask(db, people["ann"], found, title, body)
        replies = [cm.answer(db, people[who], question, text) for who, text in answers]
        if accept is not None:
            cm.accept(db, people["ann"], replies[accept])
        return question.id


def _admin(db) -> User:
    return db.scalar(select(User).where(User.role == "admin")) or add_staff(db, "ada@desk.example", "password-ada",
                                                                           "admin")


def test_the_accepted_answer_becomes_the_steps_and_the_draft_passes_the_check(center: Path, url: str):
    question = thread(url, "Printer offline after the update?", ("bob", "Reinstall the driver."),
                      ("ed", "Open Settings > Printers and choose Use printer online."), accept=0)
    duplicate = thread(url, "printer went offline after updating", ("bob", "Same here"))
    _, sessions = open_database(url)
    with sessions.begin() as db:
        mod.merge(db, db.scalar(select(User).where(User.email == "ed@desk.example")), db.get(Question, duplicate),
                  db.get(Question, question))
    result = run("community", "draft", str(question), "--articles", str(center), "--database", url)
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip().splitlines()[-1])
    assert path == center / "printers" / "printer-offline-after-the-update.md"
    front, body = front_and_body(path)
    assert front["title"] == "Printer offline after the update?" and front["category"] == "printers"
    assert front["status"] == "draft"
    assert front["questions"] == ["Printer offline after the update?", "printer went offline after updating"]
    comment, rest = body.split("-->", 1)
    assert f"community question {question}" in comment and f"/community/q/{question}" in comment
    problem, steps = rest.split("## Problem", 1)[1].split("## Steps", 1)
    assert "> It says offline since Monday." in problem
    assert "Reinstall the driver." in steps and "Use printer online" not in steps  # the accepted one, not official
    check = run("check", "--strict", "--articles", str(center))
    assert check.exit_code == 0 and "0 error(s), 0 warning(s)" in check.output, check.output


def test_else_the_official_answer_else_the_most_voted(center: Path, url: str):
    official = thread(url, "Scanner saves blank pages", ("bob", "Clean the glass."), ("ed", "Update the firmware."))
    voted = thread(url, "Scanner jams", ("bob", "Pull the tray out."), ("bob", "Use thinner paper."))
    _, sessions = open_database(url)
    with sessions.begin() as db:
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        cm.vote(db, ann, db.get(Question, voted).answers[1])
    first = run("community", "draft", str(official), "--articles", str(center), "--database", url)
    assert "Update the firmware." in Path(first.output.strip().splitlines()[-1]).read_text(encoding="utf-8")
    second = run("community", "draft", str(voted), "--articles", str(center), "--database", url)
    text = Path(second.output.strip().splitlines()[-1]).read_text(encoding="utf-8")
    assert "Use thinner paper." in text and "Pull the tray out." not in text


def test_notes_for_an_unanswered_thread_of_a_topic_without_category(center: Path, url: str):
    question = thread(url, "Где найти счёт?", topic="loose-talk", body="Не могу найти счёт за май.")
    result = run("community", "draft", str(question), "--articles", str(center), "--database", url)
    assert result.exit_code == 0, result.output
    assert "note: category: the topic 'Loose talk' has no category" in result.output
    assert "note: the thread has no answer to show yet" in result.output
    path = Path(result.output.strip().splitlines()[-1])
    front, body = front_and_body(path)
    assert front["lang"] == "ru" and path.parent.name == "ru" and "1. The first thing to do." in body
    check = run("check", "--strict", "--articles", str(center))
    assert check.exit_code == 0, check.output


def test_unknown_and_merged_questions_are_clear_errors(center: Path, url: str):
    question = thread(url, "Printer offline", ("ed", "Restart it."))
    duplicate = thread(url, "Printer is offline", ("bob", "Same"))
    before = set(center.rglob("*.md"))
    unknown = run("community", "draft", "999", "--articles", str(center), "--database", url)
    assert unknown.exit_code == 1 and "no community question 999" in unknown.output
    assert run("community", "draft", "0", "--database", url).exit_code == 2  # not a question id
    _, sessions = open_database(url)
    with sessions.begin() as db:
        mod.merge(db, db.scalar(select(User).where(User.email == "ed@desk.example")), db.get(Question, duplicate),
                  db.get(Question, question))
    merged = run("community", "draft", str(duplicate), "--articles", str(center), "--database", url)
    assert merged.exit_code == 1 and f"merged into question {question}" in merged.output
    assert set(center.rglob("*.md")) == before


def test_an_agent_drafts_an_article_from_the_question_page(drafting_app, tmp_path):
    app, articles = drafting_app, tmp_path / "articles"
    with app.extensions["kb.db"].begin() as db:
        ann = db.scalar(select(User).where(User.email == "ann@acme.example"))
        cm.ensure_category_topics(db, {"printers": "Printers"})
        question = cm.ask(db, ann, cm.find_topic(db, ann, "printers"), "Toner light blinks", "Orange light.")
        cm.accept(db, ann, cm.answer(db, ann, question, "Shake the toner cartridge."))
        question_id = question.id
    before = set(articles.rglob("*.md"))
    clients = {}
    for email in ("ann@acme.example", "editor@desk.example", "agent@desk.example"):
        clients[email] = app.test_client()
        sign_in(clients[email], email)
    path = f"/community/moderation/q/{question_id}/draft"
    assert post(app.test_client(), path).headers["Location"].startswith("/sign-in")
    assert post(clients["ann@acme.example"], path).status_code == 404
    assert post(clients["editor@desk.example"], path).status_code == 404
    assert 'id="draft-form"' not in clients["ann@acme.example"].get(f"/community/q/{question_id}").get_data(as_text=True)
    assert set(articles.rglob("*.md")) == before
    agent = clients["agent@desk.example"]
    assert 'id="draft-form"' in agent.get(f"/community/q/{question_id}").get_data(as_text=True)
    done = post(agent, path)
    assert done.status_code == 302 and done.headers["Location"] == f"/community/q/{question_id}"
    [written] = set(articles.rglob("*.md")) - before
    front, body = front_and_body(written)
    assert front["title"] == "Toner light blinks" and front["status"] == "draft" and "Shake the toner" in body
    assert f"Draft written to {written.name}" in agent.get(f"/community/q/{question_id}").get_data(as_text=True)
    assert agent.post(path, data={}).status_code == 400  # no CSRF token
