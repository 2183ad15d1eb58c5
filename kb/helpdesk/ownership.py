"""Who works a ticket: its owner, set by "Take it", the desk's assign select or a bulk action, each change a
staff-only "assigned" event in the ticket's history (customers never see it)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.errors import TicketError
from kb.helpdesk.models import AGENT, EVENT_ASSIGNED, TICKET_ROLES, Ticket, TicketEvent, User, utcnow
from kb.helpdesk.tickets import ACTIVE


def check_owner(owner: User | None) -> None:
    """Refuse an owner who cannot work tickets: not an agent or admin, or deactivated."""
    if owner is None:
        return
    if not owner.works_tickets:
        raise TicketError(f"owner: {owner.email} is not an agent or admin, who alone work tickets")
    if not owner.active:
        raise TicketError(f"owner: {owner.email} is deactivated and cannot be given tickets")


def assign(db: Session, ticket: Ticket, owner: User | None, by: User) -> TicketEvent | None:
    """Make `owner` the ticket's owner (None: unassigned), recorded as an "assigned" event by `by`; None when the
    ticket already is theirs."""
    check_owner(owner)
    if ticket.owner_id == (owner.id if owner else None):
        return None
    event = TicketEvent(kind=EVENT_ASSIGNED, author_kind=AGENT, author=by, owner_from_id=ticket.owner_id,
                        owner_to=owner, created_at=utcnow())
    ticket.events.append(event)
    ticket.owner = owner
    db.flush()
    return event


def assignable(db: Session) -> list[User]:
    """The people a ticket may be given to: active agents and admins, by name."""
    return list(db.scalars(select(User).where(User.role.in_(TICKET_ROLES), User.active.is_(True))
                           .order_by(func.lower(User.name), User.email)))


def open_tickets_of(db: Session, user: User) -> list[Ticket]:
    """The tickets `user` owns that are not resolved, oldest first (for reassignment when they leave)."""
    return list(db.scalars(select(Ticket).where(Ticket.owner_id == user.id, Ticket.status.in_(ACTIVE))
                           .order_by(Ticket.created_at, Ticket.id)))
