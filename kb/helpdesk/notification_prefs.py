"""The kinds of e-mail notification, who receives each, and each user's choice of them."""
from __future__ import annotations

from typing import Iterable

from sqlalchemy.orm import Session

from kb.helpdesk.models import User, utcnow
from kb.helpdesk.notification_models import NotificationPreference

# To the customer who filed a ticket.
TICKET_RECEIVED, AGENT_REPLY, STATUS_CHANGE = "ticket_received", "agent_reply", "status_change"
WAITING_REMINDER, RESOLVED_NOTICE, AUTO_CLOSED = "waiting_reminder", "resolved", "auto_closed"
KNOWN_ISSUE_RESOLVED = "notice_resolved"  # a known issue the customer's ticket is attached to (web/notices.py)
CUSTOMER_KINDS = (TICKET_RECEIVED, AGENT_REPLY, STATUS_CHANGE, WAITING_REMINDER, RESOLVED_NOTICE, AUTO_CLOSED,
                  KNOWN_ISSUE_RESOLVED)
# To the agents of the ticket's group.
NEW_TICKET, CUSTOMER_REPLY = "new_ticket", "customer_reply"
AGENT_KINDS = (NEW_TICKET, CUSTOMER_REPLY)
KINDS = CUSTOMER_KINDS + AGENT_KINDS


def kinds_for(user: User) -> tuple[str, ...]:
    """The kinds `user`'s role may receive: agents' kinds for staff who work tickets, customers' for customers."""
    if user.works_tickets:
        return AGENT_KINDS
    return () if user.is_staff else CUSTOMER_KINDS


def muted_kinds(db: Session, user: User) -> frozenset[str]:
    preference = db.get(NotificationPreference, user.id)
    return frozenset(preference.muted) if preference else frozenset()


def wants(db: Session, user: User, kind: str) -> bool:
    """Whether `user` gets notifications of `kind`: an active account whose role receives it, not turned off."""
    return user.active and kind in kinds_for(user) and kind not in muted_kinds(db, user)


def set_muted(db: Session, user: User, kinds: Iterable[str]) -> frozenset[str]:
    """Turn off exactly `kinds` for `user` (unknown kinds are ignored); not committed."""
    chosen = sorted(set(kinds) & set(KINDS))
    preference = db.get(NotificationPreference, user.id)
    if preference is None:
        preference = NotificationPreference(user_id=user.id, muted=chosen)
        db.add(preference)
    preference.muted, preference.updated_at = chosen, utcnow()
    return frozenset(chosen)


def mute(db: Session, user: User, kind: str) -> None:
    """Turn off one kind (an unsubscribe link); not committed."""
    set_muted(db, user, muted_kinds(db, user) | {kind})
