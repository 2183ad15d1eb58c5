"""Macros: saved replies an agent applies in one click. Their placeholders, who may use and change which, saving.

A shared macro is everyone's to use, and its author's and the admins' to change; a personal one exists for its
owner only. A macro's text is plain text like a reply: placeholders are filled in one pass (a value that holds
`{agent_name}` stays as typed) with the value on one line.
"""
from __future__ import annotations

import re
from typing import Mapping

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from kb.errors import MacroError
from kb.helpdesk.macro_models import MACRO_TITLE_MAX, Macro
from kb.helpdesk.models import ADMIN_ROLE, DESCRIPTION_MAX, STATUSES, SUBMITTED, Ticket, User, utcnow

PLACEHOLDERS = ("customer_name", "ticket_ref", "agent_name")
MACRO_STATUSES = tuple(s for s in STATUSES if s != SUBMITTED)  # nobody moves a ticket back to submitted
ARTICLES_MAX = 10
_PLACEHOLDER = re.compile(r"\{([^{}\s]{0,64})\}")
_SPACE = re.compile(r"\s+")


def unknown_placeholders(body: str) -> list[str]:
    """The `{name}`s in `body` that are no placeholder, each once, in order."""
    return list(dict.fromkeys(f"{{{m.group(1)}}}" for m in _PLACEHOLDER.finditer(body or "")
                              if m.group(1) not in PLACEHOLDERS))


def placeholder_values(ticket: Ticket, agent: User) -> dict[str, str]:
    customer = ticket.customer
    return {"customer_name": customer.name or customer.email, "ticket_ref": ticket.ref,
            "agent_name": agent.name or agent.email}


def fill(body: str, values: Mapping[str, str]) -> str:
    """`body` with each known placeholder replaced by its value, collapsed to one line; in one pass."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        return _SPACE.sub(" ", values[name]).strip() if name in values else match.group(0)
    return _PLACEHOLDER.sub(value, body)


def may_use(user: User, macro: Macro) -> bool:
    return macro.shared or macro.owner_id == user.id


def may_edit(user: User, macro: Macro) -> bool:
    return macro.owner_id == user.id or (macro.shared and user.role == ADMIN_ROLE)


def usable_macros(db: Session, user: User) -> list[Macro]:
    """The macros `user` may apply: the shared ones and their own, by title."""
    return list(db.scalars(select(Macro).where(or_(Macro.shared.is_(True), Macro.owner_id == user.id))
                           .order_by(Macro.title, Macro.id)))


def find_macro(db: Session, user: User, macro_id: int) -> Macro | None:
    """The macro, if `user` may see it (another agent's personal macro does not exist for them)."""
    macro = db.get(Macro, macro_id)
    return macro if macro is not None and may_use(user, macro) else None


def check_macro(title: str, body: str, article_ids: list[str], status: str,
                audiences: Mapping[str, str]) -> None:
    """Raise MacroError naming the first bad field. `audiences`: every article id with its audience."""
    if not title.strip() or len(title) > MACRO_TITLE_MAX:
        raise MacroError(f"title needs 1 to {MACRO_TITLE_MAX} characters", "title")
    if not body.strip() or len(body) > DESCRIPTION_MAX:
        raise MacroError(f"body needs 1 to {DESCRIPTION_MAX} characters", "body")
    unknown = unknown_placeholders(body)
    if unknown:
        raise MacroError(f"unknown placeholders {', '.join(unknown)}; known: "
                         + ", ".join(f"{{{p}}}" for p in PLACEHOLDERS), "body")
    if len(article_ids) > ARTICLES_MAX:
        raise MacroError(f"at most {ARTICLES_MAX} articles", "articles")
    for article_id in article_ids:
        if audiences.get(article_id) != "public":
            raise MacroError(f"{article_id!r} is no public article", "articles")
    if status and status not in MACRO_STATUSES:
        raise MacroError(f"status must be one of {', '.join(MACRO_STATUSES)}", "status")


def save_macro(db: Session, user: User, macro: Macro | None, *, title: str, body: str, article_ids: list[str],
               status: str, shared: bool, audiences: Mapping[str, str]) -> Macro:
    """Create a macro owned by `user` (`macro` None) or change one they may edit; not committed."""
    if macro is not None and not may_edit(user, macro):
        raise MacroError("this macro is not yours to change")
    check_macro(title, body, article_ids, status, audiences)
    now = utcnow()
    if macro is None:
        macro = Macro(owner_id=user.id, created_at=now)
        db.add(macro)
    macro.title, macro.body, macro.article_ids = title, body, list(dict.fromkeys(article_ids))
    macro.status, macro.shared, macro.updated_by_id, macro.updated_at = status, shared, user.id, now
    db.flush()
    return macro


def delete_macro(db: Session, user: User, macro: Macro) -> None:
    if not may_edit(user, macro):
        raise MacroError("this macro is not yours to delete")
    db.delete(macro)
    db.flush()
