"""Which tickets a member of staff may see on the desk: the one rule, for single tickets and for queries.

With `desk_restrict_to_groups` on, an agent sees only the tickets of their own agent group; admins see every
ticket either way. Anyone who does not work tickets (customers, editors, nobody) sees none through this rule
(customers see theirs through kb.helpdesk.accounts.can_see_ticket, on the portal).
"""
from __future__ import annotations

from sqlalchemy import false

from kb.config_desk import DeskSettings
from kb.helpdesk.models import ADMIN_ROLE, Ticket, User


def restricted(settings: DeskSettings, user: User) -> bool:
    """Whether `user` sees only their own group's tickets."""
    return settings.desk_restrict_to_groups and user.role != ADMIN_ROLE


def staff_can_see(settings: DeskSettings, user: User | None, ticket: Ticket) -> bool:
    """Whether `user` may see and work `ticket` on the desk."""
    if user is None or not user.active or not user.works_tickets:
        return False
    return not restricted(settings, user) or ticket.agent_group == user.agent_group


def visible_tickets(settings: DeskSettings, user: User | None) -> list:
    """`staff_can_see` as query conditions on Ticket (an empty list: every ticket)."""
    if user is None or not user.active or not user.works_tickets:
        return [false()]
    return [Ticket.agent_group == user.agent_group] if restricted(settings, user) else []
