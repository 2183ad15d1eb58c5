"""Answered community questions like one being typed: shown on the ask form, so a duplicate is not posted.

A plain text match for now: the typed words against question titles (SQL `LIKE`, case folded by the database:
on SQLite only ASCII letters fold). A question is offered only when `user` may read it, it is neither hidden,
held nor merged, and it has an answer the asker accepted or an official one, both readable.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, or_, select, true
from sqlalchemy.orm import Session, aliased

from kb.helpdesk.community import _topics_clause, is_staff
from kb.helpdesk.community_models import TITLE_MAX, Answer, Question, Topic

MAX_WORDS = 12
_WORD = re.compile(r"\w{3,}")
# Words that say nothing about the problem: matching them would offer every question.
STOP_WORDS = frozenset("""the and for are but not you your with this that what when where which who why how can
does did doesn don isn have has had from there their they them into out about after before any all also just get
got our ours its was were will would could should may might too very some such than then here only one two
как что это для при или так его она они где когда почему есть нет мой моя мои мне меня the
як що для при або так його вона вони коли чому немає мій моя мої мені мене""".split())


@dataclass(frozen=True)
class Match:
    question: Question
    words: int  # how many of the typed words its title holds
    answer: str  # "accepted" or "official"


def words_of(text: str) -> list[str]:
    """The typed text's telling words, lower case, each once, at most MAX_WORDS."""
    seen: dict[str, None] = {}
    for word in _WORD.findall((text or "").lower()):
        if word not in STOP_WORDS and not word.isdigit():
            seen.setdefault(word[:TITLE_MAX], None)
    return list(seen)[:MAX_WORDS]


def _shown(model, user) -> ColumnElement[bool]:
    return true() if is_staff(user) else and_(model.hidden.is_(False), model.held.is_(False))


def answered_like(db: Session, user, text: str, topic: Topic | None = None, limit: int = 5) -> list[Match]:
    """At most `limit` answered questions whose titles hold the most of `text`'s words (at least two of them, or
    the only one typed): those with an accepted answer first, then official ones, then the most words; questions
    of `topic` before others' at a tie."""
    words = words_of(text)
    if not words:
        return []
    accepted = aliased(Answer)
    has_accepted = exists().where(accepted.id == Question.accepted_answer_id, _shown(accepted, user))
    official = aliased(Answer)
    has_official = exists().where(official.question_id == Question.id, official.official.is_(True),
                                  _shown(official, user))
    query = (select(Question, has_accepted.label("accepted"))
             .join(Topic, Topic.id == Question.topic_id)
             .where(_topics_clause(user), _shown(Question, user), Question.merged_into_id.is_(None),
                    or_(has_accepted, has_official),
                    or_(*[Question.title.icontains(w, autoescape=True) for w in words]))
             .order_by(Question.created_at.desc(), Question.id.desc()).limit(200))
    needed = min(2, len(words))
    found = []
    for question, is_accepted in db.execute(query):
        title = question.title.lower()
        count = sum(w in title for w in words)
        if count >= needed:
            found.append(Match(question, count, "accepted" if is_accepted else "official"))
    same_topic = topic.id if topic is not None else None
    found.sort(key=lambda m: (m.answer != "accepted", -m.words, m.question.topic_id != same_topic))
    return found[:limit]
