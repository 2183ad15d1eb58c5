"""Community threads worth searching beside the articles, and agents' endorsements.

A question is searchable when it is in a public topic, neither hidden, held nor merged away, and has an answer that
is shown to everyone (not hidden, not held) and is accepted, endorsed by an agent, or has at least `min_votes`
up-votes. Its document is the question's title and body with its best such answer (accepted first, then
endorsed, then by votes). Private topics are never searchable: their questions would leak to other customers.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kb.errors import CommunityError, CommunityForbidden
from kb.helpdesk.community import may_moderate
from kb.helpdesk.community_models import Answer, Question, Topic
from kb.helpdesk.models import User


@dataclass(frozen=True)
class Thread:
    """One searchable question: its document's text, and whether its answer was accepted or endorsed."""

    question_id: int
    title: str
    text: str
    accepted: bool
    endorsed: bool
    answer: str = ""  # the answer searched with it (Markdown source)


def searchable_threads(db: Session, min_votes: int) -> list[Thread]:
    """Every searchable question, by id (read in one query: a few thousand rows)."""
    rows = db.execute(
        select(Question.id, Question.title, Question.body, Question.accepted_answer_id, Answer.id, Answer.body,
               Answer.endorsed, Answer.score)
        .join(Answer, Answer.question_id == Question.id)
        .join(Topic, Topic.id == Question.topic_id)
        .where(Topic.organisation_id.is_(None), Question.hidden.is_(False), Question.held.is_(False),
               Question.merged_into_id.is_(None), Answer.hidden.is_(False), Answer.held.is_(False),
               or_(Answer.id == Question.accepted_answer_id, Answer.endorsed.is_(True), Answer.score >= min_votes))
        .order_by(Question.id))
    best: dict[int, tuple] = {}
    for qid, title, body, accepted_id, aid, answer, endorsed, score in rows:
        rank = (aid == accepted_id, bool(endorsed), score, -aid)
        if qid not in best or rank > best[qid][0]:
            best[qid] = (rank, title, body, answer, aid == accepted_id, bool(endorsed))
    return [Thread(qid, title, f"{title}\n{body}\n{answer}", accepted, endorsed, answer)
            for qid, (_, title, body, answer, accepted, endorsed) in sorted(best.items())]


def set_endorsed(db: Session, user: User | None, reply: Answer, endorsed: bool) -> Answer:
    """An agent (or admin) vouches for an answer, or takes it back. A hidden or held answer cannot be endorsed."""
    if not may_moderate(user):
        raise CommunityForbidden("only agents endorse answers")
    if endorsed and (reply.hidden or reply.held):
        raise CommunityError("a hidden or held answer cannot be endorsed", "answer")
    reply.endorsed = endorsed
    db.flush()
    return reply
