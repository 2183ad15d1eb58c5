"""A draft article from a community thread (`kb community draft`, and the agents' button on the question page):
the question's title as the title and first question (with the titles of questions merged into it), the answer
that settled it as the body, the topic's category, and a note of the thread it came from. Written by
kb/drafts.py's writer as `status: draft`, for an editor to finish; never over an existing file."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.check import load_help_center
from kb.config import Settings
from kb.drafts import (GENERAL_CATEGORIES, MAX_QUESTION, Draft, _comment, _unique, clean_phrasing, draft_language,
                       write_article_draft)
from kb.errors import CommunityError, KbError
from kb.helpdesk.community_models import ID_MAX, Answer, Question
from kb.helpdesk.db import open_database


def settling_answer(question: Question) -> Answer | None:
    """The answer the article tells: the accepted one, else the best official one, else the most voted one (the
    oldest at a tie); hidden and held answers never."""
    shown = [a for a in question.answers if not (a.hidden or a.held)]
    accepted = next((a for a in shown if a.id == question.accepted_answer_id), None)
    if accepted is not None:
        return accepted
    official = [a for a in shown if a.official]
    return min(official or shown, key=lambda a: (-a.score, a.id), default=None)


def merged_titles(db: Session, question: Question) -> list[str]:
    return list(db.scalars(select(Question.title).where(Question.merged_into_id == question.id,
                                                        Question.hidden.is_(False)).order_by(Question.id)))


def _body(question: Question, reply: Answer | None, notes: list[str]) -> str:
    todo = [f"Draft written from community question {question.id} (/community/q/{question.id}). To finish it: "
            "write the steps, the description and an introduction in your own words, take out anything personal "
            "from the thread, then remove this comment and set status: published.", *notes]
    problem = "\n".join(f"> {line}".rstrip() for line in question.body.strip().splitlines())
    steps = reply.body.strip() if reply is not None else "1. The first thing to do.\n2. The next thing."
    return ("<!--\n" + "\n".join(_comment(line) for line in todo) + "\n-->\n\n"
            f"## Problem\n\nAs it was asked in the community:\n\n{problem}\n\n## Steps\n\n{steps}\n")


def draft_from_question(db: Session, question: Question, settings: Settings, lang: str | None = None) -> Draft:
    """Write a new `status: draft` article from the community `question` and return what was written. Raises
    CommunityError for a question merged into another, KbError when the folder has no categories or the draft
    would not pass `kb check` (it is then removed)."""
    if question.merged_into_id is not None:
        raise CommunityError(f"question {question.id} was merged into question {question.merged_into_id}: "
                             "draft from that one")
    center = load_help_center(settings.articles_dir, settings)
    declared = list(center.categories)
    if not declared:
        raise KbError(f"{settings.articles_dir}: no categories found (categories.yml is missing or empty)")
    notes: list[str] = []
    category = question.topic.category
    if category not in declared:
        fallback = next((c for c in GENERAL_CATEGORIES if c in declared), declared[0])
        reason = (f"the topic's category '{category}' is not declared" if category
                  else f"the topic '{question.topic.title}' has no category")
        notes.append(f"category: {reason}; '{fallback}' was set: choose the right one")
        category = fallback
    if question.topic.is_private:
        notes.append("privacy: the thread is in a topic private to one organisation; keep nothing of theirs")
    if question.hidden or question.held:
        notes.append("the question is hidden or waits for review: check it deserves an article")
    reply = settling_answer(question)
    if reply is None:
        notes.append("the thread has no answer to show yet: write the steps")
    lang = draft_language(f"{question.title} {question.body}", lang, settings.default_lang, notes, "question")
    title = clean_phrasing(question.title) or " ".join(question.title.split())[:MAX_QUESTION]
    title = title[:1].upper() + title[1:]
    questions = list(_unique([question.title, *merged_titles(db, question)]).values())
    return write_article_draft(settings, center, title, category, lang, questions, _body(question, reply, notes),
                               notes, f"community question {question.id}")


def write_community_draft(settings: Settings, database_url: str, question_id: int, lang: str | None = None) -> Draft:
    """`kb community draft`: the draft from question `question_id` of the database at `database_url`."""
    engine, sessions = open_database(database_url)
    with sessions() as db:
        question = db.get(Question, question_id) if 0 < question_id <= ID_MAX else None
        if question is None:
            raise CommunityError(f"no community question {question_id} in "
                                 f"{engine.url.render_as_string(hide_password=True)}")
        return draft_from_question(db, question, settings, lang)
