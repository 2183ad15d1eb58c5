"""Known-issue notices: posting and editing them, which are active, attaching tickets, resolving them.

A notice is active from `starts_at` until `ends_at` (when given) or until it is resolved. Resolving one adds a
line to every attached ticket's history; the e-mail to their customers is the caller's (web/notices.py), written
in the same transaction.
"""
from __future__ import annotations

from datetime import datetime
from typing import Iterable

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from kb.errors import NoticeError
from kb.helpdesk.models import AGENT, CATEGORY_MAX, CUSTOMER_ROLES, Ticket, TicketEvent, User, utcnow
from kb.helpdesk.notice_models import BODY_MAX, TITLE_MAX, Notice, NoticeTicket
from kb.helpdesk.ticket_search import index_ticket

EVENT_NOTICE_RESOLVED = "notice_resolved"  # a ticket event: a notice the ticket is attached to was resolved


def _check(title: str, body: str, category: str, starts_at: datetime, ends_at: datetime | None) -> None:
    if not title.strip() or len(title) > TITLE_MAX:
        raise NoticeError(f"title needs 1 to {TITLE_MAX} characters")
    if len(body) > BODY_MAX:
        raise NoticeError(f"body: at most {BODY_MAX} characters")
    if len(category) > CATEGORY_MAX:
        raise NoticeError(f"category: at most {CATEGORY_MAX} characters")
    if ends_at is not None and ends_at <= starts_at:
        raise NoticeError("ends_at must be after starts_at")


def create_notice(db: Session, author: User, title: str, body: str = "", category: str = "",
                  starts_at: datetime | None = None, ends_at: datetime | None = None) -> Notice:
    """A new notice (flushed, not committed); `starts_at` defaults to now. Times are naive UTC."""
    now = utcnow()
    starts_at = starts_at or now
    _check(title, body, category, starts_at, ends_at)
    notice = Notice(title=title, body=body, category=category, starts_at=starts_at, ends_at=ends_at,
                    author_id=author.id, created_at=now, updated_at=now, resolution="")
    db.add(notice)
    db.flush()
    return notice


def update_notice(db: Session, notice: Notice, title: str, body: str, category: str, starts_at: datetime | None,
                  ends_at: datetime | None) -> Notice:
    """New text, category or time window for `notice` (a resolved one stays resolved)."""
    starts_at = starts_at or notice.starts_at
    _check(title, body, category, starts_at, ends_at)
    notice.title, notice.body, notice.category = title, body, category
    notice.starts_at, notice.ends_at, notice.updated_at = starts_at, ends_at, utcnow()
    db.flush()
    return notice


def find_notice(db: Session, notice_id: int) -> Notice | None:
    return db.scalar(select(Notice).where(Notice.id == notice_id)
                     .options(selectinload(Notice.links).selectinload(NoticeTicket.ticket)))


def all_notices(db: Session) -> list[Notice]:
    """Every notice, newest first, with its attached tickets."""
    return list(db.scalars(select(Notice).order_by(Notice.starts_at.desc(), Notice.id.desc())
                           .options(selectinload(Notice.links).selectinload(NoticeTicket.ticket))))


def _unresolved(now: datetime):
    """Neither resolved nor ended `now` (started or not)."""
    return (Notice.resolved_at.is_(None), or_(Notice.ends_at.is_(None), Notice.ends_at > now))


def _active(now: datetime):
    return (*_unresolved(now), Notice.starts_at <= now)


def active_notices(db: Session, categories: Iterable[str] | None = None, now: datetime | None = None
                   ) -> list[Notice]:
    """The notices active `now`, newest first: all of them, or with `categories` those for one of them and those
    for everyone (no category)."""
    query = select(Notice).where(*_active(now or utcnow()))
    if categories is not None:
        query = query.where(Notice.category.in_({"", *(c for c in categories if c)}))
    return list(db.scalars(query.order_by(Notice.starts_at.desc(), Notice.id.desc())))


def unresolved_notices(db: Session, now: datetime | None = None) -> list[Notice]:
    """The notices neither resolved nor ended `now`, newest first: the active ones and those still to start."""
    query = select(Notice).where(*_unresolved(now or utcnow()))
    return list(db.scalars(query.order_by(Notice.starts_at.desc(), Notice.id.desc())))


def ticket_notices(db: Session, ticket: Ticket) -> list[Notice]:
    """The notices `ticket` is attached to, oldest attachment first."""
    return list(db.scalars(select(Notice).join(NoticeTicket, NoticeTicket.notice_id == Notice.id)
                           .where(NoticeTicket.ticket_id == ticket.id).order_by(NoticeTicket.id)))


def may_attach(user: User | None, ticket: Ticket) -> bool:
    """A customer attaches only their own tickets; agents and admins any."""
    if user is None:
        return False
    if user.role in CUSTOMER_ROLES:
        return ticket.customer_id == user.id
    return user.works_tickets


def attach(db: Session, notice: Notice, ticket: Ticket, by: User, now: datetime | None = None) -> NoticeTicket:
    """Attach `ticket` to the active `notice` (once: attaching again returns the first link). Flushed."""
    if not notice.active_at(now or utcnow()):
        raise NoticeError("notice: only an active notice takes tickets")
    existing = db.scalar(select(NoticeTicket).where(NoticeTicket.notice_id == notice.id,
                                                    NoticeTicket.ticket_id == ticket.id))
    if existing is not None:
        return existing
    link = NoticeTicket(notice_id=notice.id, ticket_id=ticket.id, attached_by_id=by.id, created_at=utcnow())
    try:
        with db.begin_nested():  # two clicks racing: the unique constraint lets one in
            db.add(link)
    except IntegrityError:
        return db.scalar(select(NoticeTicket).where(NoticeTicket.notice_id == notice.id,
                                                    NoticeTicket.ticket_id == ticket.id))
    return link


def detach(db: Session, notice: Notice, ticket: Ticket) -> bool:
    """Take `ticket` off `notice`; False when it was not attached."""
    link = db.scalar(select(NoticeTicket).where(NoticeTicket.notice_id == notice.id,
                                                NoticeTicket.ticket_id == ticket.id))
    if link is None:
        return False
    db.delete(link)
    db.flush()
    return True


def attached_counts(db: Session) -> dict[int, int]:
    """How many tickets each notice has: notice id -> count."""
    rows = db.execute(select(NoticeTicket.notice_id, func.count()).group_by(NoticeTicket.notice_id))
    return {notice_id: count for notice_id, count in rows}


def resolve_notice(db: Session, notice: Notice, by: User, resolution: str = "") -> list[Ticket]:
    """Mark `notice` resolved and add a history line to each attached ticket; returns those tickets (flushed).

    Only one of two agents resolving at once gets here: the update takes a notice that is not resolved yet, and
    the other gets NoticeError, so the customers are told once."""
    if len(resolution) > BODY_MAX:
        raise NoticeError(f"resolution: at most {BODY_MAX} characters")
    now = utcnow()
    taken = db.execute(update(Notice).where(Notice.id == notice.id, Notice.resolved_at.is_(None))
                       .values(resolved_at=now, resolved_by_id=by.id, resolution=resolution, updated_at=now)
                       .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise NoticeError("notice: already resolved")
    db.refresh(notice)
    tickets = list(db.scalars(select(Ticket).join(NoticeTicket, NoticeTicket.ticket_id == Ticket.id)
                              .where(NoticeTicket.notice_id == notice.id).order_by(NoticeTicket.id)
                              .options(selectinload(Ticket.customer), selectinload(Ticket.events))))
    body = f"{notice.title}\n\n{resolution}".strip() if resolution.strip() else notice.title
    for ticket in tickets:
        ticket.events.append(TicketEvent(kind=EVENT_NOTICE_RESOLVED, author_kind=AGENT, author=by, body=body,
                                         created_at=now))
        ticket.updated_at = now
        index_ticket(db, ticket)
    db.flush()
    return tickets
