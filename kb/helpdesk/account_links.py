"""One-time account links: issued with a random token (only its SHA-256 is stored), found by the token while
unexpired and unused, and used once (an UPDATE that only one of two racing requests can win)."""
from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from kb.errors import LinkError
from kb.helpdesk.account_models import INVITE, LINK_KINDS, AccountLink
from kb.helpdesk.models import Organisation, User, utcnow

TOKEN_BYTES = 32
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)
KEEP_DEAD = timedelta(days=7)  # expired or used links are deleted this long after they expire
LINK_ERROR = "this link has expired, was already used or is not valid"


@dataclass(frozen=True)
class Issued:
    """A link just issued: the row and the token to mail (the token is never stored, logged or shown again)."""

    link: AccountLink
    token: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def issue(db: Session, kind: str, *, hours: float, user: User | None = None,
          organisation: Organisation | None = None, invited_by: User | None = None, email: str = "",
          payload: dict[str, Any] | None = None, now: datetime | None = None) -> Issued:
    """A new link of `kind`, valid for `hours` (added to `db`, not committed). Old dead links are pruned."""
    if kind not in LINK_KINDS:
        raise ValueError(f"unknown link kind {kind!r}")
    now = now or utcnow()
    prune(db, now)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    link = AccountLink(kind=kind, token_hash=token_hash(token), user=user, organisation=organisation,
                       invited_by=invited_by, email=email, payload=payload or {}, created_at=now,
                       expires_at=now + timedelta(hours=hours))
    db.add(link)
    db.flush()
    return Issued(link, token)


def issue_decoy(db: Session, kind: str, now: datetime | None = None) -> None:
    """A link row that can never be used (born used), written where a real one would be for an address without
    an account: the request does the same database work either way, so its timing does not tell them apart."""
    issued = issue(db, kind, hours=0, now=now)
    issued.link.used_at = issued.link.created_at
    db.flush()


def find(db: Session, kind: str, token: str, now: datetime | None = None) -> AccountLink:
    """The unexpired, unused link of `kind` whose token this is; LinkError (one message for every reason)."""
    if not isinstance(token, str) or not _TOKEN_RE.match(token):
        raise LinkError(LINK_ERROR)
    link = db.scalar(select(AccountLink).where(AccountLink.token_hash == token_hash(token)))
    if link is None or link.kind != kind or link.used_at is not None or link.expires_at <= (now or utcnow()):
        raise LinkError(LINK_ERROR)
    return link


def use(db: Session, link: AccountLink, now: datetime | None = None) -> None:
    """Mark `link` used; LinkError when another request used it first (the UPDATE matches no row then)."""
    now = now or utcnow()
    result = db.execute(update(AccountLink).where(AccountLink.id == link.id, AccountLink.used_at.is_(None))
                        .values(used_at=now).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise LinkError(LINK_ERROR)
    link.used_at = now


def close_all(db: Session, kind: str, *, user_id: int | None = None, email: str | None = None,
              organisation_id: int | None = None, now: datetime | None = None) -> None:
    """Mark every open link of `kind` for this user (or address, within an organisation) used: a new link, a
    changed password or a withdrawal makes the older ones die."""
    conditions = [AccountLink.kind == kind, AccountLink.used_at.is_(None)]
    if user_id is not None:
        conditions.append(AccountLink.user_id == user_id)
    if email is not None:
        conditions.append(AccountLink.email == email)
    if organisation_id is not None:
        conditions.append(AccountLink.organisation_id == organisation_id)
    db.execute(update(AccountLink).where(*conditions).values(used_at=now or utcnow())
               .execution_options(synchronize_session=False))


def prune(db: Session, now: datetime | None = None) -> None:
    """Delete links that expired more than KEEP_DEAD ago (an anonymous request never confirmed goes with them)."""
    db.execute(delete(AccountLink).where(AccountLink.expires_at < (now or utcnow()) - KEEP_DEAD)
               .execution_options(synchronize_session=False))


def pending_invitations(db: Session, organisation_id: int, now: datetime | None = None) -> list[AccountLink]:
    """The organisation's invitations not yet accepted, withdrawn or expired, newest first."""
    return list(db.scalars(select(AccountLink).where(
        AccountLink.kind == INVITE, AccountLink.organisation_id == organisation_id, AccountLink.used_at.is_(None),
        AccountLink.expires_at > (now or utcnow())).order_by(AccountLink.created_at.desc(), AccountLink.id.desc())))
