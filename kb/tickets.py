"""Tickets: creation with an unguessable reference, the customer's view of them, their status history."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.errors import TicketError
from kb.models import (AGENT, CUSTOMER, DESCRIPTION_MAX, EVENT_REPLY, EVENT_STATUS, EVENT_SUBMITTED, IN_PROGRESS,
                       MANAGER, RESOLVED, STATUS_LABELS, STATUSES, SUBJECT_MAX, SUBMITTED, WAITING, Ticket,
                       TicketEvent, User, utcnow)

# Crockford's base32: no I, L, O or U, so a reference read over the phone is not misheard.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_PREFIX = "KB-"
REF_CHARS = 8
ACTIVE = (SUBMITTED, IN_PROGRESS, WAITING)


def new_ref() -> str:
    """`KB-` and 8 random base32 characters (40 bits): references say nothing about how many tickets exist."""
    return REF_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(REF_CHARS))


def normalise_ref(ref: str) -> str:
    return (ref or "").strip().upper()


def create_ticket(db: Session, customer: User, subject: str, description: str, category: str = "",
                  deflection: dict[str, Any] | None = None) -> Ticket:
    """A new ticket in status `submitted`, with its first event. Text is stored as typed."""
    if not subject.strip() or len(subject) > SUBJECT_MAX:
        raise TicketError(f"subject needs 1 to {SUBJECT_MAX} characters")
    if not description.strip() or len(description) > DESCRIPTION_MAX:
        raise TicketError(f"description needs 1 to {DESCRIPTION_MAX} characters")
    ref = new_ref()
    while db.scalar(select(Ticket.id).where(Ticket.ref == ref)) is not None:
        ref = new_ref()
    now = utcnow()
    ticket = Ticket(ref=ref, organisation_id=customer.organisation_id, customer=customer, subject=subject,
                    description=description, category=category[:64], status=SUBMITTED,
                    deflection=deflection or {}, created_at=now, updated_at=now)
    ticket.events.append(TicketEvent(kind=EVENT_SUBMITTED, author_kind=CUSTOMER, author=customer,
                                     status_to=SUBMITTED, created_at=now))
    db.add(ticket)
    db.flush()
    return ticket


def set_status(db: Session, ticket: Ticket, status: str, author: User | None = None, author_kind: str = AGENT,
               note: str = "") -> TicketEvent | None:
    """Move `ticket` to `status`, recorded as an event; None when it already is there."""
    if status not in STATUSES:
        raise TicketError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    if ticket.status == status:
        return None
    event = TicketEvent(kind=EVENT_STATUS, author_kind=author_kind, author=author, body=note,
                        status_from=ticket.status, status_to=status, created_at=utcnow())
    ticket.events.append(event)
    ticket.status = status
    ticket.updated_at = event.created_at
    db.flush()
    return event


def add_reply(db: Session, ticket: Ticket, author: User, body: str, author_kind: str = CUSTOMER) -> TicketEvent:
    """A reply; a customer's reply to a ticket waiting on them puts it back in progress."""
    if not body.strip() or len(body) > DESCRIPTION_MAX:
        raise TicketError(f"reply needs 1 to {DESCRIPTION_MAX} characters")
    event = TicketEvent(kind=EVENT_REPLY, author_kind=author_kind, author=author, body=body, created_at=utcnow())
    ticket.events.append(event)
    ticket.updated_at = event.created_at
    if author_kind == CUSTOMER and ticket.status in (WAITING, RESOLVED):
        set_status(db, ticket, IN_PROGRESS, author, CUSTOMER)
    db.flush()
    return event


def tickets_for(db: Session, user: User) -> list[Ticket]:
    """The tickets `user` may see, newest first."""
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if user.role == MANAGER:
        query = query.where(Ticket.organisation_id == user.organisation_id)
    else:
        query = query.where(Ticket.customer_id == user.id)
    return list(db.scalars(query.options(selectinload(Ticket.customer))))


def find_ticket(db: Session, ref: str) -> Ticket | None:
    return db.scalar(select(Ticket).where(Ticket.ref == normalise_ref(ref))
                     .options(selectinload(Ticket.events).selectinload(TicketEvent.author)))


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    reached_at: datetime | None
    state: str  # "done", "current" or "todo"


def tracker(ticket: Ticket) -> list[Step]:
    """The four steps, each with when it was last reached, the current one marked."""
    reached: dict[str, datetime] = {}
    for event in ticket.events:
        if event.status_to:
            reached[event.status_to] = event.created_at
    reached.setdefault(SUBMITTED, ticket.created_at)
    current = STATUSES.index(ticket.status) if ticket.status in STATUSES else 0
    steps = []
    for i, status in enumerate(STATUSES):
        state = "done" if i < current else "current" if i == current else "todo"
        steps.append(Step(status, STATUS_LABELS[status], reached.get(status) if i <= current else None, state))
    return steps


def ticket_dict(ticket: Ticket) -> dict[str, Any]:
    """The customer-facing JSON of a ticket (the API), with its tracker and history."""
    return {
        "ref": ticket.ref, "subject": ticket.subject, "description": ticket.description,
        "category": ticket.category, "status": ticket.status, "status_label": STATUS_LABELS.get(ticket.status),
        "created_at": _iso(ticket.created_at), "updated_at": _iso(ticket.updated_at),
        "steps": [{"status": s.status, "label": s.label, "reached_at": _iso(s.reached_at), "state": s.state}
                  for s in tracker(ticket)],
        "events": [{"kind": e.kind, "author_kind": e.author_kind, "body": e.body, "status_from": e.status_from,
                    "status_to": e.status_to, "created_at": _iso(e.created_at)} for e in ticket.events],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None
