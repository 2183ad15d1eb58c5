"""Signed-in sessions: what the session cookie carries, and when a session ends.

The cookie (signed, not encrypted: nothing personal goes in it) carries the user's id, the session generation
of the user it was issued under, when the user signed in and when the session was last used. Signing out raises
the user's generation in the database (`kb.helpdesk.accounts.end_sessions`), so every copy of every cookie issued before
stops working, on every device. A session also ends after `session_idle_minutes` without a request and
`session_max_hours` after signing in, however active.

A generation per user, rather than a table of sessions, keeps requests read-only (the idle clock lives in the
signed cookie) and leaves nothing to prune; the price is that signing out ends the user's other sessions too.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from flask import current_app, session
from sqlalchemy.orm import Session

from kb.config import Settings
from kb.helpdesk.models import User

KEYS = ("user_id", "generation", "since", "seen")
SEEN_STEP = 60  # seconds: `seen` is rewritten (a new cookie sent) at most this often, not on every request


@dataclass(frozen=True)
class Lifetimes:
    idle: int  # seconds without a request
    maximum: int  # seconds since signing in

    @property
    def seen_step(self) -> int:
        """How stale `seen` may get before it is rewritten: small beside the idle lifetime."""
        return max(1, min(SEEN_STEP, self.idle // 4))


def lifetimes(settings: Settings) -> Lifetimes:
    """The session lifetimes of `settings` in seconds (both positive: `kb.config` validates them)."""
    return Lifetimes(settings.session_idle_minutes * 60, settings.session_max_hours * 3600)


def now() -> int:
    return int(time.time())


def start(user: User) -> None:
    """Sign `user` in on this request's cookie: a fresh session (and CSRF token), stamped with the time."""
    session.clear()
    moment = now()
    session.update(user_id=user.id, generation=user.session_generation, since=moment, seen=moment)


def resume(db: Callable[[], Session]) -> User | None:
    """The active user this request's cookie signs in; None, and the sign-in dropped from the cookie, when the
    session has expired or been ended (signed out, the user deactivated) or the cookie is not one of ours.

    `db` gives the request's database session; it is asked for only when the cookie names a user."""
    if "user_id" not in session:
        return None
    user = _still_valid(db)
    if user is None:
        forget()
    return user


def forget() -> None:
    """Drop the sign-in from this request's cookie (other parts of the session, like the CSRF token, stay)."""
    for key in KEYS:
        session.pop(key, None)


def _still_valid(db: Callable[[], Session]) -> User | None:
    stamps = [session.get(key) for key in KEYS]
    if not all(type(value) is int for value in stamps):  # noqa: E721 - bool is an int, and not one of ours
        return None
    user_id, generation, since, seen = stamps
    limits = lifetimes(current_app.config["KB_SETTINGS"])
    moment = now()
    if moment - seen > limits.idle or moment - since > limits.maximum:
        return None
    user = db().get(User, user_id)
    if user is None or not user.active or user.session_generation != generation:
        return None
    if moment - seen >= limits.seen_step:
        session["seen"] = moment
    return user
