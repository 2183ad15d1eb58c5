"""Known-issue notices: what support already knows is broken ("VPN down in the Sofia office since 10:00"), shown
to customers while it lasts, and the tickets customers attached to one (told by e-mail when it is resolved)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.helpdesk.models import CATEGORY_MAX, DESCRIPTION_MAX, SUBJECT_MAX, Base, Ticket, User, utcnow

TITLE_MAX, BODY_MAX = SUBJECT_MAX, DESCRIPTION_MAX


class Notice(Base):
    """A known issue. `category` is one of the help center's categories (as tickets have them), or empty for
    everyone. It is active from `starts_at` until `ends_at` (when given) or until it is resolved."""

    __tablename__ = "notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    body: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(CATEGORY_MAX), default="", index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # What the agent who resolved it said was done (in the customers' e-mail and the tickets' history).
    resolution: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])
    links: Mapped[list[NoticeTicket]] = relationship(back_populates="notice", order_by="NoticeTicket.id",
                                                     cascade="all, delete-orphan")

    def active_at(self, moment: datetime) -> bool:
        """Started, not ended and not resolved at `moment` (naive UTC)."""
        return (self.resolved_at is None and self.starts_at <= moment
                and (self.ends_at is None or moment < self.ends_at))


class NoticeTicket(Base):
    """A ticket attached to a notice: its customer is told when the notice is resolved."""

    __tablename__ = "notice_tickets"
    __table_args__ = (UniqueConstraint("notice_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    # Who attached it: the ticket's customer, or an agent.
    attached_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    notice: Mapped[Notice] = relationship(back_populates="links")
    ticket: Mapped[Ticket] = relationship()
