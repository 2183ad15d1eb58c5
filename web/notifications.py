"""E-mail notifications of what happens to a ticket, written into the outbox in the event's own transaction
(web/mail.py renders them in the recipient's language): to the customer, the ticket received, an agent's reply,
a status change, a reminder while it waits on them, its resolution and an automatic close; to the agents of the
ticket's group, a new ticket and a customer's reply. Each user chooses the kinds they get
(kb/helpdesk/notification_prefs.py); every message carries a signed one-click unsubscribe link (RFC 8058)."""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.mail_tokens import reply_address
from kb.helpdesk.models import RESOLVED, TICKET_ROLES, Ticket, TicketEvent, User
from kb.helpdesk.notification_prefs import (AGENT_REPLY, AUTO_CLOSED, CUSTOMER_KINDS, CUSTOMER_REPLY, KINDS, NEW_TICKET,
                                            RESOLVED_NOTICE, STATUS_CHANGE, TICKET_RECEIVED, WAITING_REMINDER, wants)
from web.i18n import LANG_COOKIE, LANGUAGES, STATUS_LABELS, current_language
from web.mail import compose, external_url, mail_domain, recipient_language, settings

UNSUBSCRIBE_SALT = "kb.unsubscribe"


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user: User, kind: str) -> str:
    """A signed token naming a user and a notification kind: its link turns that kind off without signing in."""
    return _signer().dumps([user.id, kind])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(user id, kind) from a token this site signed; None for a forged, altered or malformed one."""
    try:
        value = _signer().loads(token)
    except (BadData, UnicodeError, ValueError):
        return None
    if (not isinstance(value, list) or len(value) != 2 or not isinstance(value[0], int)
            or isinstance(value[0], bool) or value[1] not in KINDS):
        return None
    return value[0], value[1]


def support_address() -> str:
    """Where replies go: `mail_from`, on `mail_reply_domain` when that is set."""
    config = settings()
    local, _, domain = config.mail_from.rpartition("@")
    return f"{local}@{config.mail_reply_domain or domain}"


def thread_id(ticket: Ticket) -> str:
    """The Message-ID every message about `ticket` answers (In-Reply-To, References): one thread per ticket."""
    return f"<ticket.{ticket.ref.lower()}@{mail_domain(settings())}>"


def _headers(user: User, kind: str, ticket: Ticket | None) -> dict[str, str]:
    unsubscribe = external_url("preferences.unsubscribe", token=unsubscribe_token(user, kind))
    headers = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All",
               "List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    if ticket is not None:
        headers.update({"In-Reply-To": thread_id(ticket), "References": thread_id(ticket), "X-KB-Ticket": ticket.ref})
        if kind in CUSTOMER_KINDS:  # the customer's reply lands on the ticket (the key is secret_key(settings))
            headers["Reply-To"] = reply_address(current_app.secret_key, support_address(), ticket.ref)
    return headers


def notify(db: Session, user: User, kind: str, ticket: Ticket | None = None, **context: Any) -> OutboxMessage | None:
    """One notification of `kind` (template `mail/<kind>.*`) to `user` in `db`'s transaction, unless they turned
    that kind off."""
    if not wants(db, user, kind):
        return None
    if ticket is not None:
        endpoint = "support.ticket" if kind in CUSTOMER_KINDS else "desk.ticket"
        context.setdefault("ticket_url", external_url(endpoint, ref=ticket.ref))
    context.update(unsubscribe_url=external_url("preferences.unsubscribe", token=unsubscribe_token(user, kind)),
                   preferences_url=external_url("preferences.notifications"), labels=STATUS_LABELS,
                   name=user.name or user.email)
    return compose(db, kind, to=user.email, lang=recipient_language(user), kind=kind, user=user,
                   ticket=ticket, headers=_headers(user, kind, ticket), **context)


def group_agents(db: Session, ticket: Ticket) -> list[User]:
    """The active agents (and admins) of the ticket's group."""
    if not ticket.agent_group:
        return []
    return list(db.scalars(select(User).where(User.role.in_(TICKET_ROLES), User.active.is_(True),
                                              User.agent_group == ticket.agent_group).order_by(User.id)))


def ticket_filed(db: Session, ticket: Ticket) -> Ticket:
    """The customer is told their ticket was received, the group's agents that it is there."""
    notify(db, ticket.customer, TICKET_RECEIVED, ticket)
    for agent in group_agents(db, ticket):
        notify(db, agent, NEW_TICKET, ticket, customer=ticket.customer.name or ticket.customer.email)
    return ticket


def customer_replied(db: Session, ticket: Ticket, event: TicketEvent) -> None:
    for agent in group_agents(db, ticket):
        notify(db, agent, CUSTOMER_REPLY, ticket, reply=event.body,
               customer=ticket.customer.name or ticket.customer.email)


def agent_replied(db: Session, ticket: Ticket, event: TicketEvent, status: TicketEvent | None = None) -> None:
    """An agent's reply, with the status it set at the same time: one message (the resolution's when resolved)."""
    author = event.author.name if event.author and event.author.name else ""
    if status is not None and status.status_to == RESOLVED:
        resolved(db, ticket, reply=event.body, agent=author)
    else:
        notify(db, ticket.customer, AGENT_REPLY, ticket, reply=event.body, agent=author,
               status=status.status_to if status is not None else "")


def status_changed(db: Session, ticket: Ticket, event: TicketEvent | None) -> None:
    if event is None:
        return
    if event.status_to == RESOLVED:
        resolved(db, ticket)
    else:
        notify(db, ticket.customer, STATUS_CHANGE, ticket, status=event.status_to)


def resolved(db: Session, ticket: Ticket, reply: str = "", agent: str = "") -> None:
    """The resolution, with a link to the ticket page's customer-effort question."""
    effort_url = external_url("support.ticket", ref=ticket.ref, _anchor="effort")
    notify(db, ticket.customer, RESOLVED_NOTICE, ticket, reply=reply, agent=agent, effort_url=effort_url)


def waiting_reminder(db: Session, ticket: Ticket) -> OutboxMessage | None:
    return notify(db, ticket.customer, WAITING_REMINDER, ticket)


def auto_closed(db: Session, ticket: Ticket) -> OutboxMessage | None:
    return notify(db, ticket.customer, AUTO_CLOSED, ticket, days=settings().auto_close_days)


def remember_language(user: User | None) -> None:
    """Keep the interface language a user works in: their e-mail is written in it (committed by the caller).
    Only a request that says a language (the switcher's cookie, Accept-Language) changes it: an API client that
    sends neither does not turn a Russian speaker's mail into English."""
    if user is None or not (request.cookies.get(LANG_COOKIE) in LANGUAGES or request.accept_languages):
        return
    lang = current_language()
    if user.language != lang:
        user.language = lang


def init_app(app: Flask) -> None:
    @app.teardown_request
    def wake_sender(_exc) -> None:
        """A request that wrote mail wakes the serving process's sender (web/mail_worker.py), if it runs one."""
        worker = app.extensions.get("kb.mail_worker")
        if g.pop("kb_mail_written", False) and worker is not None:
            worker.wake()
