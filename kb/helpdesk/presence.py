"""Who else has a ticket open on the desk: each open ticket page reports its agent every few seconds ("viewing",
or "replying" while they type a reply); a report older than `STALE` no longer counts, so a closed tab drops out
by itself even when its goodbye never arrived."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.helpdesk.models import Ticket, User, utcnow
from kb.helpdesk.presence_models import TicketPresence

VIEWING, REPLYING = "viewing", "replying"
STATES = (VIEWING, REPLYING)
STALE = timedelta(seconds=30)


@dataclass(frozen=True)
class Present:
    user_id: int
    name: str
    state: str


def report(db: Session, ticket: Ticket, user: User, state: str, now: datetime | None = None) -> None:
    """`user` has `ticket` open (and is typing a reply when `state` is REPLYING). Committed by the caller."""
    if state not in STATES:
        state = VIEWING
    now = now or utcnow()
    row = db.get(TicketPresence, (ticket.id, user.id))
    if row is None:
        try:
            with db.begin_nested():
                db.add(TicketPresence(ticket_id=ticket.id, user_id=user.id, state=state, seen_at=now))
        except IntegrityError:  # the same agent's other tab inserted it first
            row = db.get(TicketPresence, (ticket.id, user.id))
    if row is not None:
        row.state, row.seen_at = state, now
    db.flush()


def leave(db: Session, ticket: Ticket, user: User) -> None:
    """`user` closed the ticket's page."""
    db.execute(delete(TicketPresence).where(TicketPresence.ticket_id == ticket.id, TicketPresence.user_id == user.id))


def others(db: Session, ticket: Ticket, user: User, now: datetime | None = None) -> list[Present]:
    """Everyone but `user` with `ticket` open within the last `STALE`, replying ones first."""
    since = (now or utcnow()) - STALE
    rows = db.execute(select(TicketPresence, User).join(User, TicketPresence.user_id == User.id)
                      .where(TicketPresence.ticket_id == ticket.id, TicketPresence.user_id != user.id,
                             TicketPresence.seen_at >= since, User.active.is_(True))
                      .order_by(TicketPresence.seen_at.desc()))
    found = [Present(u.id, u.name or u.email, p.state) for p, u in rows]
    return sorted(found, key=lambda p: p.state != REPLYING)


def prune(db: Session, now: datetime | None = None) -> int:
    """Forget reports older than `STALE` (any ticket); returns how many."""
    since = (now or utcnow()) - STALE
    return db.execute(delete(TicketPresence).where(TicketPresence.seen_at < since)).rowcount or 0
