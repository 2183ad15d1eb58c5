"""Helpers for the self-service account tests: the mail in the outbox and the links in it."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from kb.helpdesk.account_models import AccountLink
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import User, utcnow

LINK_RE = re.compile(r"https?://[^\s<>\"]+/(?:reset-password|invitation|sign-up|account/email|requests)/[A-Za-z0-9_-]+")


def outbox(app, to: str | None = None, kind: str | None = None) -> list[OutboxMessage]:
    with app.extensions["kb.db"]() as db:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if to is not None:
            query = query.where(OutboxMessage.to_address == to)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        return list(db.scalars(query))


def link_in(message: OutboxMessage) -> str:
    """The path of the one account link in a message (the text and the HTML part carry the same one)."""
    found = LINK_RE.findall(message.text_body)
    assert len(found) == 1, message.text_body
    assert found[0] in message.html_body
    return "/" + found[0].split("/", 3)[3]


def last_link(app, to: str, kind: str | None = None) -> str:
    messages = outbox(app, to, kind)
    assert messages, f"no mail to {to}"
    return link_in(messages[-1])


def expire_links(app) -> None:
    with app.extensions["kb.db"].begin() as db:
        db.execute(update(AccountLink).values(expires_at=utcnow() - timedelta(minutes=1)))


def user(app, email: str) -> User | None:
    with app.extensions["kb.db"]() as db:
        found = db.scalar(select(User).where(User.email == email))
        if found is not None:
            db.expunge(found)
        return found


def freeze_signatures(monkeypatch) -> None:
    """Sign CSRF tokens and session cookies with one fixed time: they carry a timestamp, so two answers a second
    apart would differ in those bytes whatever the address asked about."""
    import time

    from itsdangerous.timed import TimestampSigner

    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now)
