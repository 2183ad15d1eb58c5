"""Internal notes: staff-only lines of a ticket's history, and the one filter that keeps them from customers.

A note is a TicketEvent of kind `note`. It is no reply: it changes neither `updated_at` (the clock of the
waiting-on-customer reminder and auto-close) nor `last_customer_at`, nor anything a customer is sent or shown.
Every customer-facing reading of a ticket's history goes through `customer_events`.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from kb.errors import TicketError
from kb.helpdesk.models import AGENT, DESCRIPTION_MAX, Ticket, TicketEvent, User, utcnow

EVENT_NOTE = "note"
STAFF_ONLY_KINDS = frozenset({EVENT_NOTE})


def is_staff_only(event: TicketEvent) -> bool:
    return event.kind in STAFF_ONLY_KINDS


def customer_events(ticket: Ticket) -> list[TicketEvent]:
    """The ticket's history as its customer may see it: every event but staff-only ones (internal notes)."""
    return [e for e in ticket.events if not is_staff_only(e)]


def add_note(db: Session, ticket: Ticket, author: User, body: str) -> TicketEvent:
    """An internal note by a staff member on `ticket`; not committed."""
    if not author.is_staff:
        raise TicketError("only staff write internal notes")
    if not body.strip() or len(body) > DESCRIPTION_MAX:
        raise TicketError(f"note needs 1 to {DESCRIPTION_MAX} characters")
    event = TicketEvent(kind=EVENT_NOTE, author_kind=AGENT, author=author, body=body, created_at=utcnow())
    ticket.events.append(event)
    db.flush()
    return event
