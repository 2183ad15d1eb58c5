"""The outbox: every e-mail kb sends is first a row here, written in the same transaction as the event that causes
it (a ticket filed, a reply, a status change, an invitation), and delivered later by the sender (kb/helpdesk/
mail_sender.py). A message's `message_id` is fixed when it is written, so a retry after a crash sends the same
Message-ID and a receiver can tell a repeat from a new message."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kb.helpdesk.models import EMAIL_MAX, MESSAGE_ID_MAX, SUBJECT_MAX, Base, utcnow

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
OUTBOX_STATES = (PENDING, SENDING, SENT, FAILED)


class OutboxMessage(Base):
    """One e-mail to one recipient. `state` moves pending → sending → sent (or failed after the last retry); a
    message left `sending` by a killed sender is taken up again once its lease (`lease_until`) has passed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32), default="")  # e.g. ticket_received, agent_reply, password_reset
    to_address: Mapped[str] = mapped_column(String(EMAIL_MAX))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    lang: Mapped[str] = mapped_column(String(16), default="en")
    subject: Mapped[str] = mapped_column(String(SUBJECT_MAX * 2))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text, default="")
    # Extra headers (Reply-To, List-Unsubscribe, In-Reply-To, References, Auto-Submitted...): name -> value.
    headers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_MAX), unique=True)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
