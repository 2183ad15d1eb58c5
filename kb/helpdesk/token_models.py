"""Personal API tokens: how other channels (a chat widget, a phone system, scripts) call `/api/v1` as a staff
user. Only a SHA-256 of each token is kept; the token itself is shown once, when it is created."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kb.helpdesk.models import NAME_MAX, Base, User, utcnow

READ, WRITE = "read", "write"
SCOPES = (READ, WRITE)  # write implies read


class ApiToken(Base):
    """One token of a staff user. `prefix` is its public part (shown in lists, looked up on every request);
    `secret_hash` the SHA-256 hex digest of the whole token. A revoked token keeps its row (lists show it)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(8), default=READ)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()

    @property
    def can_write(self) -> bool:
        return self.scope == WRITE
