"""Who has a ticket open on the desk right now (kb/helpdesk/presence.py): one row per agent and ticket, refreshed
while the page is open. Kept in the database, not in a process's memory, so every server process sees it."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.helpdesk.models import Base, User, utcnow


class TicketPresence(Base):
    __tablename__ = "ticket_presence"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default="viewing")  # "viewing" or "replying"
    seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship()
