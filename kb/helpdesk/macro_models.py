"""Macros: agents' saved replies, with placeholders, linked articles and a status to set when the reply is sent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.helpdesk.models import Base, User, utcnow

MACRO_TITLE_MAX = 200


class Macro(Base):
    __tablename__ = "macros"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(MACRO_TITLE_MAX))
    # Plain text like a reply, with placeholders ({customer_name}, {ticket_ref}, {agent_name}: kb/helpdesk/macros.py).
    body: Mapped[str] = mapped_column(Text, default="")
    # Public articles the macro links (as the composer's "Insert link" does), in order.
    article_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The status the reply sets when sent; empty: the status is kept.
    status: Mapped[str] = mapped_column(String(32), default="")
    # Shared macros are everyone's; a personal one is its owner's only.
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
