"""Admins changing staff accounts: name, role and agent group; deactivating and reactivating.

A deactivated account cannot sign in and its sessions end at once; everything it did stays (its replies keep its
name), it cannot be given tickets, and the tickets it still owns are listed for reassignment.
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from kb.errors import AccountError
from kb.helpdesk.accounts import check_group, end_sessions
from kb.helpdesk.models import ADMIN_ROLE, NAME_MAX, STAFF_ROLES, TICKET_ROLES, Ticket, User
from kb.helpdesk.tickets import ACTIVE


def find_staff(db: Session, user_id: int) -> User | None:
    found = db.get(User, user_id)
    return found if found is not None and found.is_staff else None


def update_staff(db: Session, user: User, name: str, role: str, group: str, by: User) -> None:
    """Set a staff account's name, role and agent group; an admin cannot take their own admin role away."""
    name = " ".join((name or "").split())
    if len(name) > NAME_MAX:
        raise AccountError(f"name: at most {NAME_MAX} characters")
    if role not in STAFF_ROLES:
        raise AccountError(f"role: must be one of {', '.join(STAFF_ROLES)}, not {role!r}")
    if user.id == by.id and role != ADMIN_ROLE:
        raise AccountError("role: an admin cannot take their own admin role away")
    try:
        group = check_group(group)
    except AccountError as exc:
        raise AccountError(f"group: {exc}") from None
    user.name, user.role, user.agent_group = name, role, group
    db.flush()


def set_active(db: Session, user: User, active: bool, by: User) -> None:
    """Deactivate (every session of theirs ends) or reactivate a staff account; nobody deactivates themselves."""
    if not active and user.id == by.id:
        raise AccountError("active: an admin cannot deactivate their own account")
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions(db, user)
    db.flush()


def orphaned_tickets(db: Session) -> list[Ticket]:
    """Open tickets whose owner can no longer work them (deactivated, or no longer an agent or admin), by owner."""
    return list(db.scalars(select(Ticket).join(User, Ticket.owner_id == User.id)
                           .where(Ticket.status.in_(ACTIVE), or_(User.active.is_(False), User.role.not_in(TICKET_ROLES)))
                           .order_by(User.email, Ticket.created_at, Ticket.id).options(selectinload(Ticket.owner))))
