"""Received e-mail, one row per Message-ID: the same message delivered twice (an MTA's retry, a mailbox fetched
again) is handled once; the rows also count a sender's messages (rate limit, one auto-reply a day) and thread a
customer's later replies to the ticket their earlier message reached."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from kb.helpdesk.models import EMAIL_MAX, MESSAGE_ID_MAX, Base, utcnow

# What became of a received message.
REPLY_ADDED, TICKET_OPENED, AUTO_REPLIED, IGNORED = "reply_added", "ticket_opened", "auto_replied", "ignored"
OUTCOMES = (REPLY_ADDED, TICKET_OPENED, AUTO_REPLIED, IGNORED)
NOTE_MAX = 200


class ReceivedMessage(Base):
    __tablename__ = "received_mail"
    __table_args__ = (Index("ix_received_mail_sender_received_at", "sender", "received_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The message's Message-ID with its angle brackets; for a message without one, a digest of its bytes.
    message_id: Mapped[str] = mapped_column(String(MESSAGE_ID_MAX), unique=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sender: Mapped[str] = mapped_column(String(EMAIL_MAX), default="")  # lower-case; '' when unusable
    outcome: Mapped[str] = mapped_column(String(32), default=IGNORED)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    note: Mapped[str] = mapped_column(String(NOTE_MAX), default="")  # why it was ignored
