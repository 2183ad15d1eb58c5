"""Account links: the one-time links kb mails so that people manage their accounts themselves (a forgotten
password, an invitation, a sign-up, a new e-mail address, an anonymous request waiting for its address to be
confirmed). Only a hash of each link's token is stored: a copy of the database opens no account."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.helpdesk.models import EMAIL_MAX, Base, Organisation, User, utcnow

RESET, INVITE, SIGNUP, NEW_EMAIL, REQUEST = "reset", "invite", "signup", "new_email", "request"
LINK_KINDS = (RESET, INVITE, SIGNUP, NEW_EMAIL, REQUEST)
TOKEN_HASH_CHARS = 64  # SHA-256, hex


class AccountLink(Base):
    """One link, usable once (`used_at` is set when it is used or withdrawn) until `expires_at`.

    `user_id`: whose password or address it changes (reset, new_email); `organisation_id` and `invited_by_id`:
    an invitation's; `email`: the address it was sent to (an invitee, a new address, a sign-up, an anonymous
    requester); `payload`: what waits for the link (an anonymous request's ticket, an invitee's role).
    """

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(TOKEN_HASH_CHARS), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User | None] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation | None] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
