"""The known-issue notices the suggestions carry, read from the database at most once every
`suggest_notices_seconds` per serving process instead of on every keystroke's request: the notices neither
resolved nor ended when read (those still to start too), as plain records; each request picks those active at its
own moment. A notice posted, edited or resolved meanwhile shows within that many seconds; 0 reads every time.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from flask import Flask, current_app

from kb.helpdesk.models import utcnow
from kb.helpdesk.notices import unresolved_notices

EXTENSION = "kb.notice_snapshot"


@dataclass(frozen=True)
class NoticeRecord:
    """A notice as the suggestions show it (web/notices.py `notice_dict` reads these fields)."""

    id: int
    title: str
    body: str
    category: str
    starts_at: datetime
    ends_at: datetime | None

    def active_at(self, moment: datetime) -> bool:
        return self.starts_at <= moment and (self.ends_at is None or moment < self.ends_at)


class NoticeSnapshot:
    def __init__(self, app: Flask, seconds: float) -> None:
        self.app = app
        self.seconds = seconds
        self.reads = 0
        self._records: tuple[NoticeRecord, ...] | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()  # one read at a time; the others keep using the records they have

    def records(self) -> tuple[NoticeRecord, ...]:
        records = self._records
        if records is not None and time.monotonic() - self._read_at < self.seconds:
            return records
        # One thread reads them again; meanwhile the others keep what they have (only the first read is waited for).
        if not self._lock.acquire(blocking=records is None):
            return records
        try:
            if self._records is records:  # not read again by another thread while this one waited
                self._records, self._read_at = self._read(), time.monotonic()
            return self._records
        finally:
            self._lock.release()

    def _read(self) -> tuple[NoticeRecord, ...]:
        with self.app.extensions["kb.db"]() as db:
            self.reads += 1
            return tuple(NoticeRecord(n.id, n.title, n.body, n.category or "", n.starts_at, n.ends_at)
                         for n in unresolved_notices(db))

    def matching(self, categories: Iterable[str], now: datetime | None = None) -> list[NoticeRecord]:
        """The notices active `now` for one of `categories` or for everyone, newest first."""
        wanted = {"", *categories}
        moment = now or utcnow()
        return [n for n in self.records() if n.category in wanted and n.active_at(moment)]


def notice_snapshot(app: Flask | None = None) -> NoticeSnapshot:
    app = app or current_app
    snapshot = app.extensions.get(EXTENSION)
    if snapshot is None:
        seconds = app.config["KB_SETTINGS"].suggest_notices_seconds
        snapshot = app.extensions.setdefault(EXTENSION, NoticeSnapshot(app, seconds))
    return snapshot
