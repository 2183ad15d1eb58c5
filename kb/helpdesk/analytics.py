"""Recording what customers do, off the request's path, and forgetting it after the retention period.

A search must not wait for a database write: `EventLog.add` only appends a row to a bounded in-memory buffer, and
one background thread per process inserts the buffered rows in batches (one transaction per flush, every
`interval` seconds or sooner once `batch` rows wait). Analytics rows are not acknowledged to anyone: a process
that dies loses at most its last `interval` of them, never a ticket or a reply (those are written in the
request's own transaction). When the database cannot take a batch it is kept for the next flush; past
`max_buffered` rows the oldest are dropped and counted (`dropped`), so a database outage never grows memory
without bound.

The contact form searches at every pause in the customer's typing, then once more on each step to the ticket.
Those searches carry the id of their typing session (the token of its first search), and each one deletes the
session's earlier searches when it is written, unless something refers to them (a click on a suggestion, "This
solved my problem", a ticket): a typing session counts as the one search its customer ended with, not as every
prefix typed on the way, whatever order its requests arrived in. Only searches by the same visitor (a user or a
visitor cookie, never an unknown client), from the contact form, within SUPERSEDE_WINDOW, are replaced.
"""
from __future__ import annotations

import atexit
import logging
import secrets
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, delete, exists, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError

from kb.helpdesk.models import AnalyticsEvent, ArticleView, Deflection, SearchDay, SearchRecord, utcnow

log = logging.getLogger(__name__)

CLICK, TICKET_FILED, EFFORT = "click", "ticket_filed", "effort"
EVENT_KINDS = (CLICK, TICKET_FILED, EFFORT)
EFFORT_SCALE = range(1, 8)  # "How easy was it to solve your problem?" 1 (very hard) .. 7 (very easy)
TOKEN_CHARS = 32
SUPERSEDING_SOURCES = ("suggest", "form")  # the contact form's searches (web/suggestions.py)
SUPERSEDE_WINDOW = timedelta(minutes=30)
# What a purge deletes: the recorded events. Votes are each visitor's current opinion, not events, and stay.
EVENT_TABLES = (SearchRecord, AnalyticsEvent, ArticleView, Deflection)


def new_token() -> str:
    """A random search id: 32 hex characters."""
    return secrets.token_hex(TOKEN_CHARS // 2)


def is_token(text: str) -> bool:
    return len(text) == TOKEN_CHARS and all(c in "0123456789abcdef" for c in text)


def retention_cutoff(days: int, now: datetime | None = None) -> datetime | None:
    """The oldest time the retention period keeps (None: 0 days, keep everything)."""
    return None if days <= 0 else (now or utcnow()) - timedelta(days=days)


class RetentionSweeper:
    """Upkeep at most once every `every` seconds, when asked (`maybe`): purges events past the retention period,
    then rolls up the settled days insights read (kb/helpdesk/rollups.py)."""

    def __init__(self, engine: Engine, days: int, every: float = 24 * 3600) -> None:
        self.engine, self.days, self.every = engine, days, every
        self._last = float("-inf")
        self._lock = threading.Lock()

    def maybe(self) -> dict[str, int] | None:
        """What the purge removed (None when it was not time, or nothing is ever purged)."""
        with self._lock:
            if time.monotonic() - self._last < self.every:
                return None
            self._last = time.monotonic()
        cutoff = retention_cutoff(self.days)
        removed = None
        try:
            if cutoff is not None:
                removed = purge(self.engine, cutoff)
            roll_up_all(self.engine)
        except SQLAlchemyError as exc:
            log.warning("analytics: upkeep failed: %s", exc.__class__.__name__)
        return removed


class EventLog:
    """Buffered inserts into `searches` and `analytics_events` (see module doc)."""

    def __init__(self, engine: Engine, interval: float = 1.0, batch: int = 500, max_buffered: int = 100_000,
                 start: bool = True, sweeper: RetentionSweeper | None = None) -> None:
        self.engine = engine
        self.sweeper = sweeper
        self.interval = interval
        self.batch = batch
        self.max_buffered = max_buffered
        self.dropped = 0
        self._rows: deque[tuple[Any, dict]] = deque()
        self._lock = threading.Lock()
        # One flush at a time: a flush returns only once every row added before it is written, even rows the
        # background thread had taken and was still writing.
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if start:
            self._thread = threading.Thread(target=self._run, name="kb-event-log", daemon=True)
            self._thread.start()
            atexit.register(self.close, at_exit=True)

    def search(self, session: str = "", **row: Any) -> None:
        """Record a search; with `session` (a typing session's id, see the module doc), the session's earlier
        searches are deleted when this one is written, if they may be."""
        row.setdefault("created_at", utcnow())
        session = (session if session and is_token(session) and row.get("visitor")
                   and row.get("source") in SUPERSEDING_SOURCES else "")
        self._add(SearchRecord, {**row, "session": session})
        if session:
            self._add(_SUPERSEDED, {"session": session, "visitor": row["visitor"], "by": row["token"],
                                    "since": row["created_at"] - SUPERSEDE_WINDOW, "until": row["created_at"]})

    def event(self, kind: str, **row: Any) -> None:
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown analytics event kind {kind!r}")
        row.setdefault("created_at", utcnow())
        self._add(AnalyticsEvent, {"kind": kind, **row})

    def _add(self, model: Any, row: dict) -> None:
        with self._lock:
            self._rows.append((model, row))
            while len(self._rows) > self.max_buffered:
                self._rows.popleft()
                self.dropped += 1
            full = len(self._rows) >= self.batch
        if full:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self, at_exit: bool = False) -> int:
        """Insert what is buffered, in one transaction; the rows written (0 when the database refused them: they
        stay buffered for the next flush; at the process's exit, when its database may be gone, that is only
        logged at info level)."""
        with self._flushing:
            return self._flush(at_exit)

    def _flush(self, at_exit: bool) -> int:
        with self._lock:
            taken = list(self._rows)
            self._rows.clear()
        if not taken:
            return 0
        by_model: dict[Any, list[dict]] = {}
        for model, row in taken:
            by_model.setdefault(model, []).append(row)
        superseded = by_model.pop(_SUPERSEDED, [])
        try:
            with self.engine.begin() as connection:
                for model, rows in by_model.items():
                    connection.execute(insert(model), rows)
                for row in superseded:  # after the inserts: a click in this same batch still keeps its search
                    connection.execute(_delete_superseded(**row))
        except SQLAlchemyError as exc:
            (log.info if at_exit else log.warning)("analytics: %d event(s) not written: %s", len(taken),
                                                   exc.__class__.__name__)
            with self._lock:
                self._rows.extendleft(reversed(taken))
                while len(self._rows) > self.max_buffered:
                    self._rows.popleft()
                    self.dropped += 1
            return 0
        return len(taken)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()
            if self.sweeper is not None:
                self.sweeper.maybe()

    def close(self, at_exit: bool = False) -> None:
        """Stop the thread and write what is left."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self.flush(at_exit)


_SUPERSEDED = object()  # the buffer's marker for "delete this earlier search"


def _unreferred():
    """Searches nothing refers to: no click, ticket or effort answer (analytics_events), no "This solved my
    problem" (deflections)."""
    return ~or_(exists(select(AnalyticsEvent.id).where(AnalyticsEvent.search_token == SearchRecord.token)),
                exists(select(Deflection.id).where(Deflection.search_token == SearchRecord.token)))


def _delete_superseded(session: str, visitor: str, since: datetime, by: str, until: datetime):
    """The statement deleting, as superseded by search `by` (made at `until`), the searches of typing session
    `session` by `visitor` made before it, since `since`, that nothing refers to."""
    return delete(SearchRecord).where(and_(
        SearchRecord.visitor == visitor, SearchRecord.source.in_(SUPERSEDING_SOURCES),
        or_(SearchRecord.session == session, SearchRecord.token == session), SearchRecord.token != by,
        SearchRecord.created_at >= since, SearchRecord.created_at <= until, _unreferred()))


def purge(engine: Engine, before: datetime) -> dict[str, int]:
    """Delete every recorded event older than `before` (naive UTC), and the search texts of the rolled-up days
    before it; how many rows each table lost. A rolled-up day's counts hold nothing a customer typed and stay."""
    removed = {}
    with engine.begin() as connection:
        for model in EVENT_TABLES:
            result = connection.execute(delete(model).where(model.created_at < before))
            removed[model.__tablename__] = int(result.rowcount or 0)
        result = connection.execute(delete(SearchDay).where(SearchDay.day < before.date().isoformat()))
        removed[SearchDay.__tablename__] = int(result.rowcount or 0)
    return removed


def roll_up_all(engine: Engine) -> int:
    """Roll up every settled day not rolled up yet (kb/helpdesk/rollups.py); how many days were."""
    from sqlalchemy.orm import Session

    from kb.helpdesk.rollups import roll_up

    with Session(engine) as db:
        return roll_up(db)
