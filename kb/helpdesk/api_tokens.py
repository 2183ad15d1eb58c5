"""Personal API tokens (kb/helpdesk/token_models.py): created for agents and admins (an integration's token
belongs to a staff user too), shown once, kept as a SHA-256 digest, looked up by their public prefix, revocable.

A token reads `kb_<8 hex>_<43 url-safe characters>`: the first part (`kb_` and the hex) is the public prefix that
lists show and requests are looked up by; the whole token carries 256 random bits, so one SHA-256 of it is enough
(a slow password hash protects guessable secrets, which these are not).
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.errors import AccountError
from kb.helpdesk.accounts import find_user
from kb.helpdesk.db import open_database
from kb.helpdesk.models import NAME_MAX, User, utcnow
from kb.helpdesk.token_models import READ, SCOPES, ApiToken

_TOKEN_RE = re.compile(r"(kb_[0-9a-f]{8})_[A-Za-z0-9_-]{43}")
# Writing the last use on every request would make every read a write: once a minute is precise enough.
LAST_USED_EVERY = timedelta(minutes=1)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def token_prefix(presented: str) -> str | None:
    """The public prefix of something that looks like a token (None otherwise): what requests are counted by."""
    match = _TOKEN_RE.fullmatch(presented or "")
    return match.group(1) if match else None


def may_hold_tokens(user: User) -> bool:
    """Agents and admins (who work tickets, which is what /api/v1 is for), while active."""
    return user.active and user.works_tickets


def create_token(db: Session, user: User, scope: str = READ, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`: (its row, the token), the token to be shown once and never again (not committed)."""
    if scope not in SCOPES:
        raise AccountError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    if not may_hold_tokens(user):
        raise AccountError(f"{user.email} cannot have API tokens: only active agents and admins can")
    name = " ".join((name or "").split())
    if len(name) > NAME_MAX:
        raise AccountError(f"a token's name has at most {NAME_MAX} characters")
    prefix = "kb_" + secrets.token_hex(4)
    while db.scalar(select(ApiToken.id).where(ApiToken.prefix == prefix)) is not None:
        prefix = "kb_" + secrets.token_hex(4)
    token = f"{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken(user=user, name=name, prefix=prefix, secret_hash=_digest(token), scope=scope,
                   created_at=utcnow())
    db.add(row)
    db.flush()
    return row, token


def authenticate_token(db: Session, presented: str, now: datetime | None = None) -> ApiToken | None:
    """The token row for `presented` when it is a live token of a user who may hold one (its last use noted,
    not committed); None for anything else: malformed, unknown, wrong secret, revoked, or its user deactivated
    or no longer staff who work tickets."""
    prefix = token_prefix(presented)
    if prefix is None:
        return None
    row = db.scalar(select(ApiToken).where(ApiToken.prefix == prefix).options(selectinload(ApiToken.user)))
    if row is None or not hmac.compare_digest(row.secret_hash, _digest(presented)):
        return None
    if row.revoked_at is not None or not may_hold_tokens(row.user):
        return None
    now = now or utcnow()
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
    return row


def tokens_of(db: Session, user: User | None = None) -> list[ApiToken]:
    """`user`'s tokens (everyone's when None), newest first, revoked ones included."""
    query = select(ApiToken).options(selectinload(ApiToken.user)).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return list(db.scalars(query))


def revoke_token(db: Session, token_id: int, owner: User | None = None) -> ApiToken:
    """Revoke token `token_id` (only among `owner`'s when given); revoking it again changes nothing."""
    row = db.get(ApiToken, token_id)
    if row is None or (owner is not None and row.user_id != owner.id):
        raise AccountError(f"there is no API token {token_id}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        db.flush()
    return row


# --- one call per `kb token` command ---------------------------------------------------------------------------

@dataclass(frozen=True)
class TokenInfo:
    id: int
    email: str
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _info(row: ApiToken) -> TokenInfo:
    return TokenInfo(row.id, row.user.email, row.name, row.prefix, row.scope, row.created_at, row.last_used_at,
                     row.revoked_at)


def issue_token(database_url: str, email: str, scope: str, name: str = "") -> tuple[TokenInfo, str]:
    """`kb token create`: a new token for the user with `email`, and the token itself."""
    _, sessions = open_database(database_url)
    with sessions.begin() as db:
        user = find_user(db, email)
        if user is None:
            raise AccountError(f"there is no user with e-mail {email}")
        row, token = create_token(db, user, scope, name)
        return _info(row), token


def list_tokens(database_url: str, email: str | None = None) -> list[TokenInfo]:
    """`kb token list`: every token, or those of the user with `email`."""
    _, sessions = open_database(database_url)
    with sessions() as db:
        user = None
        if email is not None:
            user = find_user(db, email)
            if user is None:
                raise AccountError(f"there is no user with e-mail {email}")
        return [_info(row) for row in tokens_of(db, user)]


def revoke(database_url: str, token_id: int) -> TokenInfo:
    """`kb token revoke`."""
    _, sessions = open_database(database_url)
    with sessions.begin() as db:
        return _info(revoke_token(db, token_id))
