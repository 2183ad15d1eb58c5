"""Tickets: creation with an unguessable reference, the customer's view of them, their status history."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from kb.errors import TicketError
from kb.helpdesk.models import (AGENT, CATEGORY_MAX, CUSTOMER, CUSTOMER_ROLES, DESCRIPTION_MAX, EVENT_REPLY, EVENT_STATUS,
                       EVENT_SUBMITTED, IDEMPOTENCY_KEY_MAX, IN_PROGRESS, MANAGER, RESOLVED, STATUS_LABELS, STATUSES, SUBJECT_MAX,
                       SUBMITTED, WAITING, CategoryChange, Ticket, TicketArticle, TicketEvent, User, utcnow)
from kb.helpdesk.ticket_sla import SlaRules, prioritise, replied, status_moved
from kb.helpdesk.ticket_search import index_ticket

# Crockford's base32: no I, L, O or U, so a reference read over the phone is not misheard.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REF_PREFIX = "KB-"
REF_CHARS = 8
ACTIVE = (SUBMITTED, IN_PROGRESS, WAITING)
# A client's idempotency key: visible ASCII (a UUID, a token), no spaces.
_KEY_RE = re.compile(r"[!-~]{1,%d}" % IDEMPOTENCY_KEY_MAX)


def new_ref() -> str:
    """`KB-` and 8 random base32 characters (40 bits): references say nothing about how many tickets exist."""
    return REF_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(REF_CHARS))


def normalise_ref(ref: str) -> str:
    return (ref or "").strip().upper()


def check_idempotency_key(key: str) -> str:
    """`key` if a client may name a request with it: 1 to 64 visible ASCII characters."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
        raise TicketError(f"Idempotency-Key needs 1 to {IDEMPOTENCY_KEY_MAX} visible ASCII characters "
                          "(letters, digits, punctuation; no spaces)")
    return key


def create_ticket(db: Session, customer: User, subject: str, description: str, category: str = "",
                  deflection: dict[str, Any] | None = None, predicted: str = "", group: str = "",
                  idempotency_key: str | None = None, rules: SlaRules | None = None,
                  subject_fixed: str = "") -> Ticket:
    """A new ticket in status `submitted`, with its first event, in the ticket search. Text is stored as typed.

    `predicted` is the classifier's category for the text, `group` the agent group the routing rules chose,
    `idempotency_key` the client's name for the request that files it (see `file_once`), `rules` the priority and
    SLA settings that predict its priority and start its clocks (None: the default priority, no clocks),
    `subject_fixed` the subject re-read in the right keyboard layout (kept only when it differs from `subject`).
    """
    if idempotency_key is not None:
        check_idempotency_key(idempotency_key)
    if not subject.strip() or len(subject) > SUBJECT_MAX:
        raise TicketError(f"subject needs 1 to {SUBJECT_MAX} characters")
    if not description.strip() or len(description) > DESCRIPTION_MAX:
        raise TicketError(f"description needs 1 to {DESCRIPTION_MAX} characters")
    ref = new_ref()
    while db.scalar(select(Ticket.id).where(Ticket.ref == ref)) is not None:
        ref = new_ref()
    now = utcnow()
    ticket = Ticket(ref=ref, organisation_id=customer.organisation_id, customer=customer, subject=subject,
                    description=description, category=category[:CATEGORY_MAX], status=SUBMITTED,
                    predicted_category=(predicted or "")[:CATEGORY_MAX], agent_group=group or "",
                    deflection=deflection or {}, created_at=now, updated_at=now, last_customer_at=now,
                    idempotency_key=idempotency_key,
                    subject_fixed=subject_fixed[:SUBJECT_MAX] if subject_fixed.strip() != subject.strip() else "")
    ticket.events.append(TicketEvent(kind=EVENT_SUBMITTED, author_kind=CUSTOMER, author=customer,
                                     status_to=SUBMITTED, created_at=now))
    if rules is not None:
        prioritise(ticket, rules.predict(subject, description, ticket.category), rules)
    db.add(ticket)
    index_ticket(db, ticket)
    return ticket


def ticket_for_key(db: Session, customer: User, key: str) -> Ticket | None:
    """The ticket `customer` filed with idempotency key `key`, if any."""
    return db.scalar(select(Ticket).where(Ticket.customer_id == customer.id, Ticket.idempotency_key == key)
                     .options(selectinload(Ticket.events)))


def file_once(db: Session, customer: User, key: str | None, create: Callable[[], Ticket]) -> tuple[Ticket, bool]:
    """File a ticket at most once per idempotency key: `(ticket, True)` for the ticket `create()` adds, committed
    here; `(earlier, False)` when `customer` already filed one with `key` (a retried request).

    Two retries racing each other both pass the first look-up; the database's unique index on (customer, key)
    lets one insert, and the other, refused, answers with the winner's ticket.
    """
    if key is not None:
        earlier = ticket_for_key(db, customer, key)
        if earlier is not None:
            return earlier, False
    try:
        ticket = create()
        db.commit()
    except IntegrityError:
        db.rollback()
        earlier = ticket_for_key(db, customer, key) if key is not None else None
        if earlier is None:  # another unique column (a reference drawn twice at the same moment)
            raise TicketError("ticket could not be saved at this moment; please send it again") from None
        return earlier, False
    return ticket, True


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
    status_moved(ticket, status, event.created_at)
    db.flush()
    if note:
        index_ticket(db, ticket)
    return event


def add_reply(db: Session, ticket: Ticket, author: User, body: str, author_kind: str = CUSTOMER) -> TicketEvent:
    """A reply; a customer's reply to a ticket waiting on them puts it back in progress."""
    if not body.strip() or len(body) > DESCRIPTION_MAX:
        raise TicketError(f"reply needs 1 to {DESCRIPTION_MAX} characters")
    event = TicketEvent(kind=EVENT_REPLY, author_kind=author_kind, author=author, body=body, created_at=utcnow())
    ticket.events.append(event)
    ticket.updated_at = event.created_at
    if author_kind == CUSTOMER:
        ticket.last_customer_at = event.created_at
    replied(ticket, event)
    if author_kind == CUSTOMER and ticket.status in (WAITING, RESOLVED):
        set_status(db, ticket, IN_PROGRESS, author, CUSTOMER)
    index_ticket(db, ticket)
    return event


def tickets_for(db: Session, user: User) -> list[Ticket]:
    """The tickets `user` may see, newest first (none for staff, who work on the desk)."""
    if user.role not in CUSTOMER_ROLES:
        return []
    query = select(Ticket).order_by(Ticket.created_at.desc(), Ticket.id.desc())
    if user.role == MANAGER:
        query = query.where(Ticket.organisation_id == user.organisation_id)
    else:
        query = query.where(Ticket.customer_id == user.id)
    return list(db.scalars(query.options(selectinload(Ticket.customer))))


def find_ticket(db: Session, ref: str) -> Ticket | None:
    return db.scalar(select(Ticket).where(Ticket.ref == normalise_ref(ref))
                     .options(selectinload(Ticket.events).selectinload(TicketEvent.author)))


def next_statuses(status: str) -> tuple[str, ...]:
    """Where an agent may move a ticket from `status`: forward to any later step, back to in progress, and a
    resolved ticket only back to in progress (reopened). Nobody moves a ticket back to submitted."""
    if status == RESOLVED:
        return (IN_PROGRESS,)
    return tuple(s for s in (IN_PROGRESS, WAITING, RESOLVED) if s != status)


def change_status(db: Session, ticket: Ticket, status: str, agent: User) -> TicketEvent | None:
    """An agent's status change, which the customer sees on the tracker; refused when not allowed."""
    if status not in next_statuses(ticket.status):
        raise TicketError(f"a ticket that is {STATUS_LABELS.get(ticket.status, ticket.status)} cannot move to "
                          f"{STATUS_LABELS.get(status, status)!r}")
    note = "Reopened" if ticket.status == RESOLVED else ""
    return set_status(db, ticket, status, agent, AGENT, note)


def change_category(db: Session, ticket: Ticket, category: str, agent: User, group: str | None = None
                    ) -> CategoryChange | None:
    """An agent's category for the ticket, kept beside the prediction as a label; None when unchanged."""
    if not category or len(category) > CATEGORY_MAX:
        raise TicketError(f"category needs 1 to {CATEGORY_MAX} characters")
    if category == ticket.category:
        return None
    change = CategoryChange(ticket=ticket, author=agent, predicted=ticket.predicted_category or "",
                            category_from=ticket.category or "", category_to=category, created_at=utcnow())
    db.add(change)
    ticket.category = category
    if group is not None:
        ticket.agent_group = group
    db.flush()
    return change


def record_links(db: Session, ticket: Ticket, event: TicketEvent, article_ids: list[str], author: User) -> None:
    """Which articles an agent's reply linked (each once per reply)."""
    for article_id in dict.fromkeys(article_ids):
        db.add(TicketArticle(ticket_id=ticket.id, event_id=event.id, article_id=article_id[:200],
                             author_id=author.id, created_at=event.created_at))
    db.flush()


def linked_articles(db: Session, ticket: Ticket) -> list[TicketArticle]:
    return list(db.scalars(select(TicketArticle).where(TicketArticle.ticket_id == ticket.id)
                           .order_by(TicketArticle.id)))


def earlier_tickets(db: Session, ticket: Ticket, limit: int = 20) -> list[Ticket]:
    """The same customer's other tickets, newest first."""
    return list(db.scalars(select(Ticket).where(Ticket.customer_id == ticket.customer_id, Ticket.id != ticket.id)
                           .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(limit)))


def category_labels(db: Session):
    """Every agent category change as {ref, text, predicted, original, corrected, at}, oldest first."""
    rows = db.execute(select(CategoryChange, Ticket).join(Ticket, CategoryChange.ticket_id == Ticket.id)
                      .order_by(CategoryChange.id))
    for change, ticket in rows:
        yield {"ref": ticket.ref, "text": f"{ticket.subject}\n{ticket.description}", "predicted": change.predicted,
               "original": change.category_from, "corrected": change.category_to, "at": _iso(change.created_at)}


@dataclass(frozen=True)
class Step:
    status: str
    label: str
    reached_at: datetime | None
    state: str  # "done", "current" or "todo"


def tracker(ticket: Ticket) -> list[Step]:
    """The four steps, each with when it was last reached, the current one marked."""
    reached: dict[str, datetime] = {}
    for event in ticket.customer_events:
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
    """The customer-facing JSON of a ticket (the API), with its tracker and history (staff-only events, such as
    internal notes and priority changes, left out; neither the priority nor its prediction is shown)."""
    return {
        "ref": ticket.ref, "subject": ticket.subject, "description": ticket.description,
        "category": ticket.category, "status": ticket.status, "status_label": STATUS_LABELS.get(ticket.status),
        "created_at": _iso(ticket.created_at), "updated_at": _iso(ticket.updated_at),
        "steps": [{"status": s.status, "label": s.label, "reached_at": _iso(s.reached_at), "state": s.state}
                  for s in tracker(ticket)],
        "events": [{"kind": e.kind, "author_kind": e.author_kind, "body": e.body, "status_from": e.status_from,
                    "status_to": e.status_to, "created_at": _iso(e.created_at)} for e in ticket.customer_events],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None
