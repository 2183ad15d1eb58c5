"""The desk's side of who sees which ticket (kb/helpdesk/access.py holds the rule): a ticket the signed-in agent
may not see answers 404 on every desk route, as if it did not exist."""
from __future__ import annotations

from flask import abort, current_app

from kb.helpdesk.access import staff_can_see, visible_tickets
from kb.helpdesk.models import Ticket
from kb.helpdesk.tickets import find_ticket
from web.context import current_user, db


def may_see(ticket: Ticket) -> bool:
    """Whether the signed-in user may see `ticket` on the desk."""
    return staff_can_see(current_app.config["KB_SETTINGS"], current_user(), ticket)


def visible_ticket(ref: str) -> Ticket:
    """The ticket `ref` names, if the signed-in user may see it on the desk; else 404."""
    found = find_ticket(db(), ref) if len(ref) <= 16 else None
    if found is None or not may_see(found):
        abort(404)
    return found


def visible_conditions() -> list:
    """The rule as conditions for a query of tickets (kb.helpdesk.access.visible_tickets)."""
    return visible_tickets(current_app.config["KB_SETTINGS"], current_user())
