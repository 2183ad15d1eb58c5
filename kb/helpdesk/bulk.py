"""The queue's bulk actions: several tickets given to one owner, or moved to one status, each with its own event.
All or nothing: when one ticket cannot take the change, none is changed."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.errors import TicketError
from kb.helpdesk.models import STATUS_LABELS, Ticket, TicketEvent, User
from kb.helpdesk.ownership import assign, check_owner
from kb.helpdesk.tickets import change_status, next_statuses, normalise_ref

MAX_TICKETS = 200


def tickets_by_ref(db: Session, refs: list[str]) -> tuple[list[Ticket], list[str]]:
    """The tickets `refs` name, in the order given (each once), and the references that name none."""
    wanted = list(dict.fromkeys(normalise_ref(r) for r in refs if r and len(r) <= 16))
    found = {t.ref: t for t in db.scalars(select(Ticket).where(Ticket.ref.in_(wanted))
                                          .options(selectinload(Ticket.events)))} if wanted else {}
    return [found[r] for r in wanted if r in found], [r for r in wanted if r not in found]


def bulk_assign(db: Session, tickets: list[Ticket], owner: User | None, by: User) -> list[TicketEvent]:
    """Give every ticket to `owner` (None: nobody); the events of those that changed."""
    check_owner(owner)
    return [e for t in tickets if (e := assign(db, t, owner, by)) is not None]


def bulk_status(db: Session, tickets: list[Ticket], status: str, by: User) -> list[tuple[Ticket, TicketEvent]]:
    """Move every ticket to `status`; refused as a whole, naming the tickets, when one of them may not move there
    (tickets already there are left as they are)."""
    stuck = [t.ref for t in tickets if t.status != status and status not in next_statuses(t.status)]
    if stuck:
        raise TicketError(f"status: {', '.join(stuck)} cannot move to {STATUS_LABELS.get(status, status)!r}")
    return [(t, change_status(db, t, status, by)) for t in tickets if t.status != status]
