"""Internal notes: staff-only lines of a ticket's history, kept apart from what customers read.

A note is a TicketEvent of kind `note`, and not one of `Ticket.events` (models.py leaves notes out of that
relationship): every reading of a ticket's history a customer gets (the tracker, the APIs, e-mail, drafts from
tickets) sees none without filtering anything; `Ticket.customer_events` also leaves out the other staff-only
events (models.STAFF_EVENTS). Only the desk
reads them, through `staff_history`. A note is no reply: it changes neither `updated_at` (the clock of the
waiting-on-customer reminder and auto-close) nor `last_customer_at`, and sends nothing.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.errors import TicketError
from kb.helpdesk.models import AGENT, DESCRIPTION_MAX, EVENT_NOTE, Ticket, TicketEvent, User, utcnow

__all__ = ["EVENT_NOTE", "add_note", "notes_of", "staff_history"]


def notes_of(db: Session, ticket: Ticket) -> list[TicketEvent]:
    """The ticket's internal notes, oldest first."""
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EVENT_NOTE)
    return list(db.scalars(query.order_by(TicketEvent.id).options(selectinload(TicketEvent.author))))


def staff_history(db: Session, ticket: Ticket) -> list[TicketEvent]:
    """The whole history for the desk: the ticket's events and its internal notes, in the order they happened."""
    return sorted([*ticket.events, *notes_of(db, ticket)], key=lambda e: e.id)


def add_note(db: Session, ticket: Ticket, author: User, body: str) -> TicketEvent:
    """An internal note by a staff member on `ticket`; not committed."""
    if not author.is_staff:
        raise TicketError("only staff write internal notes")
    if not body.strip() or len(body) > DESCRIPTION_MAX:
        raise TicketError(f"note needs 1 to {DESCRIPTION_MAX} characters")
    if ticket.id is None:
        db.flush()
    # Added by its ticket's id, not to `ticket.events`, which never holds notes.
    event = TicketEvent(ticket_id=ticket.id, kind=EVENT_NOTE, author_kind=AGENT, author=author, body=body,
                        created_at=utcnow())
    db.add(event)
    db.flush()
    return event
