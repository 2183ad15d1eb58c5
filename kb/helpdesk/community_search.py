"""Answered community questions like one being typed: shown on the ask form, so a duplicate is not posted.

A plain text match for now: the typed words against question titles (SQL `LIKE`, case folded by the database;
on SQLite, which folds only ASCII letters, other words are also looked for capitalised and in capitals). A
question is offered only when `user` may read it, it is neither hidden, held nor merged, and it has an answer
the asker accepted or an official one, both readable.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, not_, or_, select, true
from sqlalchemy.orm import Session

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


def _title_holds(word: str) -> ColumnElement[bool]:
    """The title holds `word` (lower case), in any case where the database folds it, and otherwise (SQLite folds
    ASCII letters only) written lower case, capitalised or in capitals: "принтер", "Принтер", "ПРИНТЕР". The
    count below checks the match again with Python's Unicode folding."""
    spellings = [Question.title.icontains(word, autoescape=True)]
    if not word.isascii():
        spellings += [Question.title.contains(variant, autoescape=True)
                      for variant in dict.fromkeys((word.capitalize(), word.upper())) if variant != word]
    return or_(*spellings)


def _shown(model, user) -> ColumnElement[bool]:
    return true() if is_staff(user) else and_(model.hidden.is_(False), model.held.is_(False))


def answered_like(db: Session, user, text: str, topic: Topic | None = None, limit: int = 5) -> list[Match]:
    """At most `limit` answered questions whose titles hold the most of `text`'s words (at least two of them, or
    the only one typed): those with an accepted answer first, then official ones, then the most words, then the
    newest; questions of `topic` before others' at a tie."""
    words = words_of(text)
    if not words:
        return []
    # The questions with a readable official answer, and readable accepted answers, each found once (not per
    # question). The rows are read by one scan of the table, in no order (an order by date would read them by
    # index, one by one): bench/community.py times it.
    official = select(Answer.question_id).where(Answer.official.is_(True), _shown(Answer, user))
    accepted = Question.accepted_answer_id.is_not(None)
    if not is_staff(user):  # an accepted answer hidden since, or held, does not count: those are few
        accepted = and_(accepted, Question.accepted_answer_id.not_in(
            select(Answer.id).where(or_(Answer.hidden.is_(True), Answer.held.is_(True)))))
    rows = db.execute(select(Question.id, Question.title, Question.topic_id, Question.created_at,
                             accepted)
                      .where(or_(*[_title_holds(w) for w in words]),
                             Question.topic_id.not_in(select(Topic.id).where(not_(_topics_clause(user)))),
                             _shown(Question, user), Question.merged_into_id.is_(None),
                             or_(accepted, Question.id.in_(official))))
    needed = min(2, len(words))
    same_topic = topic.id if topic is not None else None
    ranked = []
    for question_id, title, topic_id, created_at, is_accepted in rows:
        count = sum(w in title.lower() for w in words)
        if count >= needed:
            ranked.append(((not is_accepted, -count, topic_id != same_topic, -created_at.timestamp(), -question_id),
                           question_id, count, bool(is_accepted)))
    ranked.sort()
    chosen = ranked[:limit]
    questions = {q.id: q for q in db.scalars(select(Question).where(Question.id.in_([c[1] for c in chosen])))}
    return [Match(questions[question_id], count, "accepted" if is_accepted else "official")
            for _, question_id, count, is_accepted in chosen]
