"""Tickets waiting on their customer: who is due a reminder, which are resolved by the system.

A ticket waits since its last update (the move to waiting, or an agent's later reply): an agent writing again
restarts the clock of both the reminder and the auto-close."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.helpdesk.models import RESOLVED, SYSTEM, WAITING, Ticket, TicketEvent
from kb.helpdesk.tickets import set_status

AUTO_CLOSE_NOTE = "Resolved automatically: no answer from the customer"


def waiting_tickets(db: Session, since_before: datetime) -> list[Ticket]:
    """Tickets waiting on their customer since before `since_before`, longest-waiting first."""
    return list(db.scalars(select(Ticket).where(Ticket.status == WAITING, Ticket.updated_at < since_before)
                           .order_by(Ticket.updated_at, Ticket.id).options(selectinload(Ticket.customer))))


def reminder_due(now: datetime, hours: int) -> datetime | None:
    """Tickets waiting since before this moment are due a reminder (None: reminders are off)."""
    return now - timedelta(hours=hours) if hours > 0 else None


def close_due(now: datetime, days: int) -> datetime | None:
    """Tickets waiting since before this moment are resolved by the system (None: never)."""
    return now - timedelta(days=days) if days > 0 else None


def auto_close(db: Session, ticket: Ticket, now: datetime) -> TicketEvent | None:
    """Resolve a ticket that waited too long on its customer, as the system; not committed."""
    if ticket.status != WAITING:
        return None
    event = set_status(db, ticket, RESOLVED, None, SYSTEM, AUTO_CLOSE_NOTE)
    if event is not None:
        event.created_at = ticket.updated_at = now
    return event
