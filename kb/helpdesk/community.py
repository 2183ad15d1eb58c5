"""Community questions and answers: who reads what, asking, answering, editing, votes, accepting, following.

Who reads what is decided in one place, `may_read`: a public topic is everyone's (even without signing in); a
private topic is its organisation's and staff's only, and does not exist for anyone else. A hidden or held post is
its author's and staff's only. Moderation (hide, lock, move, merge, reports) is kb/helpdesk/community_moderation.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, Sequence

from sqlalchemy import ColumnElement, and_, case, func, not_, or_, select, true, update
from sqlalchemy.orm import Session

from kb.errors import CommunityError, CommunityForbidden
from kb.helpdesk.community_models import (ANSWERED, BODY_MAX, ID_MAX, OPEN, REASON_MAX, SLUG_MAX, TITLE_MAX,
                                          TOPIC_DESCRIPTION_MAX, TOPIC_TITLE_MAX, Answer, Follow, Question, Report,
                                          Revision, Topic, Vote)
from kb.helpdesk.models import TICKET_ROLES, User, utcnow

NEWEST, UNANSWERED = "newest", "unanswered"
LISTINGS = (NEWEST, UNANSWERED)
PAGE_SIZE = 20
PAGES_MAX = 10_000
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
RESERVED_SLUGS = frozenset({"moderation", "q", "a", "suggest"})  # the community's own addresses (web/community.py)
Post = Question | Answer


# --- who may do what --------------------------------------------------------------------------------------------

def is_staff(user: User | None) -> bool:
    return user is not None and user.is_staff


def may_moderate(user: User | None) -> bool:
    """Agents and admins moderate (hide, lock, move, merge, release held posts, resolve reports)."""
    return user is not None and user.role in TICKET_ROLES


def may_read(user: User | None, topic: Topic, post: Post | None = None) -> bool:
    """The visibility rule. A public topic: anyone; a private one: its organisation and staff. A hidden or held
    post (or an answer to one): staff and its author only."""
    if topic.organisation_id is not None and not (
            is_staff(user) or (user is not None and user.organisation_id == topic.organisation_id)):
        return False
    if post is None or is_staff(user):
        return True
    posts = [post.question, post] if isinstance(post, Answer) else [post]
    return all(not (p.hidden or p.held) or (user is not None and p.author_id == user.id) for p in posts)


def _topics_clause(user: User | None) -> ColumnElement[bool]:
    if is_staff(user):
        return true()
    if user is None or user.organisation_id is None:
        return Topic.organisation_id.is_(None)
    return or_(Topic.organisation_id.is_(None), Topic.organisation_id == user.organisation_id)


def _posts_clause(model, user: User | None) -> ColumnElement[bool]:
    """SQL for `may_read`'s post half (hidden or held: staff and the author only)."""
    if is_staff(user):
        return true()
    shown = and_(model.hidden.is_(False), model.held.is_(False))
    return or_(shown, model.author_id == user.id) if user is not None else shown


def may_edit(user: User | None, post: Post) -> bool:
    """The author (unless the question is locked) or a moderator."""
    if may_moderate(user):
        return True
    question = post.question if isinstance(post, Answer) else post
    return user is not None and post.author_id == user.id and not question.locked


def may_accept(user: User | None, question: Question) -> bool:
    return may_moderate(user) or (user is not None and question.author_id == user.id)


# --- topics -----------------------------------------------------------------------------------------------------

def readable_topics(db: Session, user: User | None) -> list[Topic]:
    return list(db.scalars(select(Topic).where(_topics_clause(user)).order_by(Topic.title, Topic.id)))


def find_topic(db: Session, user: User | None, slug: str) -> Topic | None:
    """The topic, if `user` may read it (another organisation's private topic does not exist for them)."""
    topic = db.scalar(select(Topic).where(Topic.slug == slug[:SLUG_MAX]))
    return topic if topic is not None and may_read(user, topic) else None


def ensure_category_topics(db: Session, categories: Mapping[str, str]) -> list[Topic]:
    """A public topic for each help-center category (id -> title) that has none yet; returns the new ones."""
    known = set(db.scalars(select(Topic.category)))
    taken = set(db.scalars(select(Topic.slug)))
    added = []
    for category, title in categories.items():
        slug = _slug(category)
        if category in known or not slug or slug in taken or slug in RESERVED_SLUGS:
            continue
        topic = Topic(slug=slug, title=(title or category)[:TOPIC_TITLE_MAX], category=category)
        db.add(topic)
        added.append(topic)
        taken.add(slug)
    db.flush()
    return added


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:SLUG_MAX]


def add_topic(db: Session, actor: User, slug: str, title: str, description: str = "", category: str = "",
              organisation_id: int | None = None) -> Topic:
    """An admin's new topic (private to `organisation_id` when given)."""
    if actor.role != "admin":
        raise CommunityForbidden("only admins add topics")
    slug = slug.strip().lower()
    if not _SLUG_RE.match(slug) or len(slug) > SLUG_MAX or slug in RESERVED_SLUGS:
        raise CommunityError(f"slug needs 1 to {SLUG_MAX} lower-case letters, digits and hyphens", "slug")
    if db.scalar(select(Topic.id).where(Topic.slug == slug)) is not None:
        raise CommunityError(f"a topic with the slug {slug!r} exists already", "slug")
    title = _text(title, TOPIC_TITLE_MAX, "title")
    if len(description) > TOPIC_DESCRIPTION_MAX:
        raise CommunityError(f"description takes at most {TOPIC_DESCRIPTION_MAX} characters", "description")
    topic = Topic(slug=slug, title=title, description=description.strip(), category=category,
                  organisation_id=organisation_id)
    db.add(topic)
    db.flush()
    return topic


@dataclass(frozen=True)
class TopicCounts:
    questions: int
    unanswered: int


def topic_counts(db: Session, user: User | None) -> dict[int, TopicCounts]:
    """Per topic id: the questions `user` may read, and how many of them have no accepted answer."""
    rows = db.execute(select(Question.topic_id, func.count(), func.sum(case((Question.status == OPEN, 1), else_=0)))
                      .where(_listed(user)).group_by(Question.topic_id))
    return {topic_id: TopicCounts(count, int(open_ or 0)) for topic_id, count, open_ in rows}


# --- reading ----------------------------------------------------------------------------------------------------

def _listed(user: User | None) -> ColumnElement[bool]:
    return and_(Question.merged_into_id.is_(None), _posts_clause(Question, user),
                # NOT IN the few topics the user may not read: the planner keeps the created_at index for the order
                Question.topic_id.not_in(select(Topic.id).where(not_(_topics_clause(user)))))


def topic_questions(db: Session, user: User | None, topic: Topic, listing: str = NEWEST,
                    page: int = 1) -> list[Question]:
    """A page of a topic's questions, newest first; `unanswered`: those without an accepted answer."""
    query = select(Question).where(Question.topic_id == topic.id, _listed(user))
    if listing == UNANSWERED:
        query = query.where(Question.status == OPEN)
    return list(db.scalars(query.order_by(Question.created_at.desc(), Question.id.desc())
                           .offset((min(max(page, 1), PAGES_MAX) - 1) * PAGE_SIZE).limit(PAGE_SIZE)))


def recent_questions(db: Session, user: User | None, limit: int = 10) -> list[Question]:
    return list(db.scalars(select(Question).where(_listed(user))
                           .order_by(Question.created_at.desc(), Question.id.desc()).limit(limit)))


def find_question(db: Session, user: User | None, question_id: int) -> Question | None:
    """The question, if `user` may read it. A merged one is returned too: its page redirects to `merged_into_id`."""
    question = db.get(Question, question_id) if 0 < question_id <= ID_MAX else None
    return question if question is not None and may_read(user, question.topic, question) else None


def find_answer(db: Session, user: User | None, answer_id: int) -> Answer | None:
    answer = db.get(Answer, answer_id) if 0 < answer_id <= ID_MAX else None
    return answer if answer is not None and may_read(user, answer.question.topic, answer) else None


def visible_answers(user: User | None, question: Question) -> list[Answer]:
    """The answers `user` may read: the accepted one first, then by votes, then oldest first."""
    answers = [a for a in question.answers if may_read(user, question.topic, a)]
    return sorted(answers, key=lambda a: (a.id != question.accepted_answer_id, -a.score, a.id))


def answer_counts(db: Session, user: User | None, question_ids: Sequence[int]) -> dict[int, int]:
    if not question_ids:
        return {}
    rows = db.execute(select(Answer.question_id, func.count()).where(
        Answer.question_id.in_(question_ids), _posts_clause(Answer, user)).group_by(Answer.question_id))
    return {question_id: count for question_id, count in rows}


def voted_answers(db: Session, user: User | None, question: Question) -> set[int]:
    if user is None:
        return set()
    return set(db.scalars(select(Vote.answer_id).join(Answer, Answer.id == Vote.answer_id)
                          .where(Vote.user_id == user.id, Answer.question_id == question.id)))


def revisions(db: Session, post: Post) -> list[Revision]:
    """A post's earlier versions, newest first."""
    column = Revision.answer_id if isinstance(post, Answer) else Revision.question_id
    return list(db.scalars(select(Revision).where(column == post.id).order_by(Revision.id.desc())))


# --- posting ----------------------------------------------------------------------------------------------------

def _text(value: str, maximum: int, field: str) -> str:
    value = (value or "").strip()
    if not value or len(value) > maximum:
        raise CommunityError(f"{field} needs 1 to {maximum} characters", field)
    return value


def _signed_in(user: User | None) -> User:
    if user is None or not user.active:
        raise CommunityForbidden("sign in to post")
    return user


def holds(db: Session, author: User, hold_first: int) -> bool:
    """Whether `author`'s next post waits for review: the first `hold_first` posts of a customer (0: none)."""
    if hold_first <= 0 or author.is_staff:
        return False
    posted = (db.scalar(select(func.count()).select_from(Question).where(Question.author_id == author.id)) or 0) + \
        (db.scalar(select(func.count()).select_from(Answer).where(Answer.author_id == author.id)) or 0)
    return posted < hold_first


def ask(db: Session, author: User | None, topic: Topic, title: str, body: str, hold_first: int = 0) -> Question:
    """A new question in `topic`; its author follows it."""
    author = _signed_in(author)
    if not may_read(author, topic):
        raise CommunityForbidden("no such topic")
    title, body = _text(title, TITLE_MAX, "title"), _text(body, BODY_MAX, "body")
    question = Question(topic=topic, author=author, title=title, body=body, held=holds(db, author, hold_first))
    db.add(question)
    db.flush()
    follow(db, author, question)
    return question


def answer(db: Session, author: User | None, question: Question, body: str, hold_first: int = 0) -> Answer:
    """A new answer; "official" when staff wrote it. A locked or merged question takes none (but a moderator's)."""
    author = _signed_in(author)
    if not may_read(author, question.topic, question):
        raise CommunityForbidden("no such question")
    if question.merged_into_id is not None:
        raise CommunityError("this question was merged into another one; answer there", "body")
    if question.locked and not may_moderate(author):
        raise CommunityForbidden("this question is locked")
    body = _text(body, BODY_MAX, "body")
    reply = Answer(question=question, author=author, body=body, official=author.is_staff,
                   held=holds(db, author, hold_first))
    db.add(reply)
    question.updated_at = utcnow()
    db.flush()
    return reply


def followers_to_tell(db: Session, reply: Answer) -> list[User]:
    """Who is told of a new answer: the question's followers who may read it, but its author. None while the
    answer is held (they are told when it is released) or hidden."""
    if reply.held or reply.hidden:
        return []
    question = reply.question
    users = db.scalars(select(User).join(Follow, Follow.user_id == User.id)
                       .where(Follow.question_id == question.id, User.id != reply.author_id, User.active.is_(True))
                       .order_by(User.id))
    return [u for u in users if may_read(u, question.topic, reply)]


def edit_question(db: Session, editor: User | None, question: Question, title: str, body: str) -> Question:
    if not may_edit(editor, question):
        raise CommunityForbidden("only the author or a moderator may edit this question")
    title, body = _text(title, TITLE_MAX, "title"), _text(body, BODY_MAX, "body")
    if (title, body) != (question.title, question.body):
        db.add(Revision(question_id=question.id, editor_id=editor.id, old_title=question.title,
                        old_body=question.body))
        question.title, question.body, question.updated_at = title, body, utcnow()
    db.flush()
    return question


def edit_answer(db: Session, editor: User | None, reply: Answer, body: str) -> Answer:
    if not may_edit(editor, reply):
        raise CommunityForbidden("only the author or a moderator may edit this answer")
    body = _text(body, BODY_MAX, "body")
    if body != reply.body:
        db.add(Revision(answer_id=reply.id, editor_id=editor.id, old_body=reply.body))
        reply.body, reply.updated_at = body, utcnow()
    db.flush()
    return reply


def vote(db: Session, user: User | None, reply: Answer) -> Answer:
    """One up-vote per user per answer; never on one's own."""
    user = _signed_in(user)
    if not may_read(user, reply.question.topic, reply):
        raise CommunityForbidden("no such answer")
    if reply.author_id == user.id:
        raise CommunityError("you cannot vote for your own answer", "vote")
    if db.scalar(select(Vote.id).where(Vote.answer_id == reply.id, Vote.user_id == user.id)) is not None:
        raise CommunityError("you have voted for this answer already", "vote")
    db.add(Vote(answer_id=reply.id, user_id=user.id))
    db.flush()  # a second vote sent at the same moment fails here, on the unique constraint
    # Counted in the database: votes from two users at once both count.
    db.execute(update(Answer).where(Answer.id == reply.id).values(score=Answer.score + 1))
    db.refresh(reply, ["score"])
    return reply


def accept(db: Session, user: User | None, reply: Answer) -> Question:
    """The asker (or a moderator) marks the answer that solved it; one per question, a later choice replaces it."""
    question = reply.question
    if not may_accept(user, question):
        raise CommunityForbidden("only the asker or a moderator may accept an answer")
    if reply.hidden or reply.held:
        raise CommunityError("a hidden or held answer cannot be accepted", "answer")
    question.accepted_answer_id, question.status = reply.id, ANSWERED
    db.flush()
    return question


def follow(db: Session, user: User | None, question: Question) -> Follow:
    user = _signed_in(user)
    existing = following(db, user, question)
    if existing is not None:
        return existing
    row = Follow(question_id=question.id, user_id=user.id)
    db.add(row)
    db.flush()
    return row


def unfollow(db: Session, user: User | None, question: Question) -> None:
    user = _signed_in(user)
    row = following(db, user, question)
    if row is not None:
        db.delete(row)
        db.flush()


def following(db: Session, user: User | None, question: Question) -> Follow | None:
    if user is None:
        return None
    return db.scalar(select(Follow).where(Follow.question_id == question.id, Follow.user_id == user.id))


def mark_seen(db: Session, user: User | None, question: Question) -> datetime | None:
    """For a follower: when they last read the question (answers newer than it are new to them); now it is read."""
    row = following(db, user, question)
    if row is None:
        return None
    seen, row.seen_at = row.seen_at, utcnow()
    db.flush()
    return seen


def report(db: Session, user: User | None, post: Post, reason: str) -> Report:
    user = _signed_in(user)
    topic = post.question.topic if isinstance(post, Answer) else post.topic
    if not may_read(user, topic, post):
        raise CommunityForbidden("no such post")
    reason = _text(reason, REASON_MAX, "reason")
    row = Report(reporter_id=user.id, reason=reason, **({"answer_id": post.id} if isinstance(post, Answer)
                                                        else {"question_id": post.id}))
    db.add(row)
    db.flush()
    return row

