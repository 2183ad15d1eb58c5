"""Files that came with a ticket's messages (its submission or a reply); their bytes are in the attachment
storage (kb/helpdesk/storage.py) under `storage_key`, never in the database."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.helpdesk.models import Base, Ticket, TicketEvent, User, utcnow

FILENAME_MAX, CONTENT_TYPE_MAX, KEY_MAX = 255, 127, 64


class Attachment(Base):
    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id"), index=True)
    # As shown and offered for download: cleaned, with an extension that agrees with `content_type`.
    filename: Mapped[str] = mapped_column(String(FILENAME_MAX))
    content_type: Mapped[str] = mapped_column(String(CONTENT_TYPE_MAX))  # detected from the bytes
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(KEY_MAX), unique=True)
    # An image's re-encoded thumbnail (kb/helpdesk/previews.py); empty when it has none.
    preview_key: Mapped[str] = mapped_column(String(KEY_MAX), default="")
    preview_type: Mapped[str] = mapped_column(String(CONTENT_TYPE_MAX), default="")
    uploader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()
    event: Mapped[TicketEvent] = relationship()
    uploader: Mapped[User | None] = relationship()
