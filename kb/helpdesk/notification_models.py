"""Which e-mail notifications each user gets: the kinds they turned off (on the preferences page or with a
message's one-click unsubscribe link). A user without a row gets every kind their role receives."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from kb.helpdesk.models import Base, utcnow


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # The notification kinds (kb/helpdesk/notification_prefs.py) this user does not want, sorted.
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
