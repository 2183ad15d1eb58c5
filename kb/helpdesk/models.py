"""The portal's database: organisations, users, tickets with their events, and what customers did with articles.

Portable column types only (no SQLite- or PostgreSQL-specific ones); times are naive UTC.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (JSON, and_, Boolean, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text,
                        UniqueConstraint, text)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Customer roles. Staff roles (agents, admins, editors) are further values of the same column; staff belong to no
# organisation and never see anything through the customers' rules. Agents and admins work tickets; editors and
# admins read insights (what self-service saves, what to write next).
MEMBER, MANAGER = "member", "manager"
CUSTOMER_ROLES = (MEMBER, MANAGER)
AGENT_ROLE, ADMIN_ROLE, EDITOR_ROLE = "agent", "admin", "editor"
STAFF_ROLES = (AGENT_ROLE, ADMIN_ROLE, EDITOR_ROLE)
TICKET_ROLES = (AGENT_ROLE, ADMIN_ROLE)
INSIGHT_ROLES = (ADMIN_ROLE, EDITOR_ROLE)

SUBMITTED, IN_PROGRESS, WAITING, RESOLVED = "submitted", "in_progress", "waiting_on_customer", "resolved"
STATUSES = (SUBMITTED, IN_PROGRESS, WAITING, RESOLVED)
STATUS_LABELS = {SUBMITTED: "Submitted", IN_PROGRESS: "In progress", WAITING: "Waiting on customer",
                 RESOLVED: "Resolved"}

# Ticket event kinds and who wrote them.
EVENT_SUBMITTED, EVENT_STATUS, EVENT_REPLY = "submitted", "status", "reply"
# Events only staff see: a priority change (body "P3 → P1"), an internal note, a new owner.
EVENT_PRIORITY, EVENT_NOTE = "priority", "note"
EVENT_ASSIGNED = "assigned"  # the ticket's owner changed (kb/helpdesk/ownership.py)
STAFF_EVENTS = (EVENT_PRIORITY, EVENT_NOTE, EVENT_ASSIGNED)
DEFAULT_PRIORITY = "P3"
CUSTOMER, AGENT, SYSTEM = "customer", "agent", "system"

SUBJECT_MAX, DESCRIPTION_MAX, EMAIL_MAX, NAME_MAX = 200, 20000, 254, 120
CATEGORY_MAX, GROUP_MAX = 64, 64
IDEMPOTENCY_KEY_MAX = 64
MESSAGE_ID_MAX = 255  # an e-mail Message-ID, with its angle brackets
SEARCH_TEXT_MAX = 500  # a search text as a rolled-up day keeps it


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Base(DeclarativeBase):
    # Named constraints, so that migrations can alter them on every database.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s"})


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    users: Mapped[list[User]] = relationship(back_populates="organisation")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(32), default=MEMBER)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Staff only: the agent group whose queue this agent works (see the `routing` setting).
    agent_group: Mapped[str] = mapped_column(String(GROUP_MAX), default="")
    # Every session cookie carries the generation it was signed in under; raising it ends them all (sign-out).
    session_generation: Mapped[int] = mapped_column(Integer, default=0)
    # The interface language the user last chose (e-mail to them is written in it); empty: the default language.
    language: Mapped[str] = mapped_column(String(16), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(back_populates="users")

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def works_tickets(self) -> bool:
        return self.role in TICKET_ROLES

    @property
    def reads_insights(self) -> bool:
        return self.role in INSIGHT_ROLES


class OrganisationDomain(Base):
    """An e-mail domain an organisation owns: mail from an unknown sender there may open a ticket for it, and with
    `signup` anyone with a verified address there may create an account in it."""

    __tablename__ = "organisation_domains"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    domain: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)  # lower-case, no "@"
    signup: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class Ticket(Base):
    __tablename__ = "tickets"
    # A unique index rather than a constraint: added to an existing table without rebuilding it (SQLite).
    # The queue sorts and counts on these columns alone (covering indexes: kb/helpdesk/queue.py, bench/sla_queue.py,
    # bench/desk_queue.py): the running SLA clock, and the filters with the order (status, then the customer's last message;
    # the age filter's created_at), each with what the queue's order and its views' counts read (sla_due_at, owner,
    # group), so that a filtered page never reads the tickets' rows: with a group or category filter that took a
    # page from about 1.2-2.8 s to 50-90 ms at 100,000 tickets. No index of created_at alone: for "older than 7
    # days" (most tickets) SQLite took it and read rows ten times slower.
    __table_args__ = (Index("uq_tickets_customer_id_idempotency_key", "customer_id", "idempotency_key", unique=True),
                      Index("ix_tickets_status_sla_due_at", "status", "sla_due_at", "last_customer_at"),
                      Index("ix_tickets_priority_status_sla_due_at", "priority", "status", "sla_due_at",
                            "last_customer_at"),
                      Index("ix_tickets_status_last_customer_at", "status", "last_customer_at", "created_at",
                            "sla_due_at", "owner_id", "agent_group"),
                      Index("ix_tickets_category_status", "category", "status", "sla_due_at", "last_customer_at",
                            "owner_id", "agent_group"),
                      Index("ix_tickets_agent_group_status", "agent_group", "status", "sla_due_at",
                            "last_customer_at", "owner_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ref: Mapped[str] = mapped_column(String(16), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX))
    # The subject re-read in the right keyboard layout when it was typed in the wrong one ("ghbynth" ->
    # "принтер"), fixed once when the ticket is filed; empty when it needed no fix.
    subject_fixed: Mapped[str] = mapped_column(String(SUBJECT_MAX), default="")
    description: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="", index=True)
    # The classifier's category for the ticket's text when it was filed (kept when people change `category`).
    predicted_category: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="")
    # The agent group the routing rules chose; the desk's queue shows and filters by it.
    agent_group: Mapped[str] = mapped_column(String(GROUP_MAX), default="", index=True)
    status: Mapped[str] = mapped_column(String(32), default=SUBMITTED, index=True)
    # What the customer searched and was shown before filing: {"query", "category", "confidence", "shown": [...]}
    deflection: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When the customer last wrote (filing or a reply): the desk's queue puts the most recent first.
    last_customer_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    # The client's key for the request that filed it: a retry with the same key gets this ticket, not a new one.
    # Unique per customer; tickets filed without a key have none (NULLs never collide).
    idempotency_key: Mapped[str | None] = mapped_column(String(IDEMPOTENCY_KEY_MAX))
    # P1..P4: predicted from the text when filed (kept in `predicted_priority`), changed by agents. The SLA clocks
    # (kb/helpdesk/ticket_sla.py): due times set when filed or re-prioritised, when each was met, and `sla_due_at`,
    # the due time of the clock now running (none once resolved), which the queue sorts and filters by.
    priority: Mapped[str] = mapped_column(String(2), default=DEFAULT_PRIORITY)
    predicted_priority: Mapped[str] = mapped_column(String(2), default="")
    first_response_due: Mapped[datetime | None] = mapped_column(DateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolution_due: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    sla_due_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The agent or admin working the ticket (kb/helpdesk/ownership.py); None: unassigned.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)

    customer: Mapped[User] = relationship(foreign_keys=[customer_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    organisation: Mapped[Organisation | None] = relationship()
    # Internal notes are not among a ticket's events: whatever reads `events` (a customer's page, an API, an
    # e-mail) never sees one; the desk reads them beside the events (kb/helpdesk/notes.py `staff_history`).
    events: Mapped[list[TicketEvent]] = relationship(
        primaryjoin=lambda: and_(Ticket.id == TicketEvent.ticket_id, TicketEvent.kind != EVENT_NOTE),
        order_by="TicketEvent.id", cascade="all, delete-orphan", overlaps="ticket")

    @property
    def customer_events(self) -> list[TicketEvent]:
        """The history without staff-only events: what the customer's tracker and the API show."""
        return [e for e in self.events if e.kind not in STAFF_EVENTS]


class TicketEvent(Base):
    """One line of a ticket's history: its submission, a reply, or a status change."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    author_kind: Mapped[str] = mapped_column(String(32))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text, default="")
    status_from: Mapped[str | None] = mapped_column(String(32))
    status_to: Mapped[str | None] = mapped_column(String(32))
    # An "assigned" event's owners before and after (None: unassigned).
    owner_from_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    owner_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(overlaps="events")
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    owner_from: Mapped[User | None] = relationship(foreign_keys=[owner_from_id])
    owner_to: Mapped[User | None] = relationship(foreign_keys=[owner_to_id])


class CategoryChange(Base):
    """An agent changed a ticket's category: with the classifier's prediction, a label to learn from."""

    __tablename__ = "category_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    predicted: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="")
    category_from: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="")
    category_to: Mapped[str] = mapped_column(String(CATEGORY_MAX))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    author: Mapped[User | None] = relationship()


class TicketArticle(Base):
    """A public article an agent linked in a reply to a ticket."""

    __tablename__ = "ticket_articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"))
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Deflection(Base):
    """A customer said an article solved their problem: no ticket was filed."""

    __tablename__ = "deflections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    query: Mapped[str] = mapped_column(Text, default="")
    # The recorded search (SearchRecord.token) whose suggestion it was, when searches are recorded.
    search_token: Mapped[str] = mapped_column(String(32), default="", index=True)
    visitor: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ArticleView(Base):
    __tablename__ = "article_views"
    # Insights look up a customer's views before their tickets.
    __table_args__ = (Index("ix_article_views_visitor_created_at", "visitor", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    visitor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Vote(Base):
    """'Was this helpful?': one vote per visitor and article; voting again changes it."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("article_id", "visitor"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[str] = mapped_column(String(200), index=True)
    visitor: Mapped[str] = mapped_column(String(64))
    helpful: Mapped[bool] = mapped_column(Boolean)
    # With a "no": what the reader says was missing (optional).
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)



class SearchRecord(Base):
    """One search: as typed and as searched, what it found and how sure it was. `token` is the random id the
    results carry, so that a click on one (an AnalyticsEvent) names its search. `visitor` is the random visitor
    cookie's id or a user's, never a client address."""

    __tablename__ = "searches"
    # `kb gaps` counts the searches that were not confident per text (kb/helpdesk/gap_sources.py): on SQLite this
    # partial index holds those rows' texts and times in text order, so the count reads the index alone, already
    # grouped, instead of the whole table (bench/gaps.py). Not on PostgreSQL, whose B-tree entries cannot take a
    # text of 2,000 characters and which counts a sequential scan with a hash aggregate.
    __table_args__ = (Index("ix_searches_failed_text", "searched", "query", "created_at",
                            sqlite_where=text("confident = 0")).ddl_if(dialect="sqlite"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    source: Mapped[str] = mapped_column(String(16))  # portal, suggest, api, form
    # The contact form's typing session (the token of its first search): a later search of the same session
    # replaces this one unless something refers to it (kb/helpdesk/analytics.py).
    session: Mapped[str] = mapped_column(String(32), default="")
    visitor: Mapped[str] = mapped_column(String(64), default="", index=True)
    query: Mapped[str] = mapped_column(Text)
    searched: Mapped[str] = mapped_column(Text, default="")  # the query as searched, when a fix changed it
    lang: Mapped[str] = mapped_column(String(16), default="")
    results: Mapped[int] = mapped_column(Integer, default=0)
    top_article: Mapped[str] = mapped_column(String(200), default="")
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    confident: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="")


class AnalyticsEvent(Base):
    """Something a customer did that insights count: a click on a search result (`search_token`, `article_id`,
    `position`), a ticket filed after a search (`search_token`, `ticket_ref`), a customer-effort answer (`value`
    1-7, with the `ticket_ref` or the `article_id` that solved it). "This solved my problem" is a Deflection."""

    __tablename__ = "analytics_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    visitor: Mapped[str] = mapped_column(String(64), default="")
    search_token: Mapped[str] = mapped_column(String(32), default="", index=True)
    article_id: Mapped[str] = mapped_column(String(200), default="", index=True)
    position: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[int | None] = mapped_column(Integer)
    ticket_ref: Mapped[str] = mapped_column(String(16), default="")


class InsightDay(Base):
    """One finished UTC day's self-service counts (kb/helpdesk/insights.py `Day`), computed once from the events so
    that a year of insights reads 365 rows, not every search."""

    __tablename__ = "insight_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD
    sessions: Mapped[int] = mapped_column(Integer, default=0)
    tickets: Mapped[int] = mapped_column(Integer, default=0)
    solved: Mapped[int] = mapped_column(Integer, default=0)
    followed_sessions: Mapped[int] = mapped_column(Integer, default=0)
    contacted_sessions: Mapped[int] = mapped_column(Integer, default=0)
    effort_answers: Mapped[int] = mapped_column(Integer, default=0)
    effort_total: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SearchDay(Base):
    """One finished UTC day's most frequent search texts (as searched, case-folded) with their counts: what the
    insights' top and unanswered searches add up over a range. Texts customers typed: purged with the events."""

    __tablename__ = "search_days"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    text: Mapped[str] = mapped_column(String(SEARCH_TEXT_MAX), primary_key=True)
    lang: Mapped[str] = mapped_column(String(16), default="")
    searches: Mapped[int] = mapped_column(Integer, default=0)
    confident: Mapped[int] = mapped_column(Integer, default=0)
    clicked: Mapped[int] = mapped_column(Integer, default=0)
    best_confidence: Mapped[float] = mapped_column(Float, default=0.0)
    top_article: Mapped[str] = mapped_column(String(200), default="")


# Tables kept in modules of their own register on Base.metadata here, so that one import of this module gives
# the whole schema (migrations compare against it).
from kb.helpdesk import mail_models  # noqa: E402,F401
from kb.helpdesk import notice_models  # noqa: E402,F401
from kb.helpdesk import mail_intake_models  # noqa: E402,F401
from kb.helpdesk import attachment_models  # noqa: E402,F401
from kb.helpdesk import account_models  # noqa: E402,F401
from kb.helpdesk import notification_models  # noqa: E402,F401
from kb.helpdesk import token_models  # noqa: E402,F401
from kb.helpdesk import macro_models  # noqa: E402,F401
from kb.helpdesk import presence_models  # noqa: E402,F401
from kb.helpdesk import ticket_search_models  # noqa: E402,F401
from kb.helpdesk import community_models  # noqa: E402,F401
