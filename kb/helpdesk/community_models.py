"""Community questions and answers: customers answer customers, staff answer officially and moderate.

A topic is public (anyone reads it, even without signing in) or private to one organisation (its people and
staff only). Questions and answers may be hidden by staff, or held for review (a new member's first posts, the
`community_hold_first_posts` setting): both are then seen by staff and their author only. Votes are up-votes
only, one per user per answer (an answer's `score` counts them): a down-vote would let one customer bury
another's answer, and reports are the way to flag a wrong or abusive one.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.helpdesk.models import CATEGORY_MAX, DESCRIPTION_MAX, SUBJECT_MAX, Base, Organisation, User, utcnow

SLUG_MAX, TOPIC_TITLE_MAX, TOPIC_DESCRIPTION_MAX = 64, 120, 500
TITLE_MAX, BODY_MAX, REASON_MAX = SUBJECT_MAX, DESCRIPTION_MAX, 500
OPEN, ANSWERED = "open", "answered"
ID_MAX = 2**31 - 1  # a larger id (from an address or a form) is no row: it would overflow the database's integer
QUESTION_STATUSES = (OPEN, ANSWERED)


class Topic(Base):
    """Where questions are asked: one per help-center category (made on first use), or made by an admin."""

    __tablename__ = "community_topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(TOPIC_TITLE_MAX))
    description: Mapped[str] = mapped_column(String(TOPIC_DESCRIPTION_MAX), default="")
    # The help center's category its questions are about (empty: none).
    category: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="")
    # Set: private to that organisation (its people and staff read and post); empty: public.
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship()

    @property
    def is_private(self) -> bool:
        return self.organisation_id is not None


class Question(Base):
    __tablename__ = "community_questions"
    # A topic's page, newest first; the counts per topic read this one index alone (bench/community.py).
    __table_args__ = (Index("ix_community_questions_topic_created", "topic_id", "created_at"),
                      Index("ix_community_questions_counts", "topic_id", "status", "hidden", "held", "merged_into_id",
                            "author_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("community_topics.id"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    locked: Mapped[bool] = mapped_column(Boolean, default=False)  # no new answers, no edits but staff's
    held: Mapped[bool] = mapped_column(Boolean, default=False)  # waits for a moderator's review
    # No foreign key: answers point to their question, and a cycle of keys would need deferred constraints.
    accepted_answer_id: Mapped[int | None] = mapped_column(Integer)
    # A duplicate merged into another question: its answers moved there, its address redirects there.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("community_questions.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    topic: Mapped[Topic] = relationship()
    author: Mapped[User] = relationship(lazy="joined")  # shown with every post
    answers: Mapped[list[Answer]] = relationship(back_populates="question", order_by="Answer.id")


class Answer(Base):
    __tablename__ = "community_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("community_questions.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    body: Mapped[str] = mapped_column(Text)
    official: Mapped[bool] = mapped_column(Boolean, default=False)  # written by staff
    score: Mapped[int] = mapped_column(Integer, default=0)  # its up-votes
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    # An agent vouches for it: searched like the accepted answers, and may be a confident suggestion
    # (kb/helpdesk/community_threads.py).
    endorsed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    question: Mapped[Question] = relationship(back_populates="answers")
    author: Mapped[User] = relationship(lazy="joined")  # shown with every post


class Vote(Base):
    """One user's up-vote on one answer."""

    __tablename__ = "community_votes"
    __table_args__ = (UniqueConstraint("answer_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("community_answers.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Follow(Base):
    """A user told of new answers to a question; `seen_at` is when they last read it (newer answers are marked)."""

    __tablename__ = "community_follows"
    __table_args__ = (UniqueConstraint("question_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("community_questions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Revision(Base):
    """A post as it was before one edit: of a question (title and body) or of an answer (body)."""

    __tablename__ = "community_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("community_questions.id"), index=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("community_answers.id"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    old_title: Mapped[str] = mapped_column(String(TITLE_MAX), default="")
    old_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    editor: Mapped[User] = relationship()


class Report(Base):
    """Someone flagged a question or an answer for the moderators."""

    __tablename__ = "community_reports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("community_questions.id"), index=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("community_answers.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(REASON_MAX))
    resolved: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    answer: Mapped[Answer | None] = relationship()
