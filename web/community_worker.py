"""The serving process's community index upkeep (`kb serve`): one background thread that, every
`community_index_interval` seconds, reads the searchable community questions and embeds the new or changed ones
(search/community.py), so a newly accepted answer is searchable within a pass or two. It runs at the lowest CPU
priority a thread gets (web/gap_worker.py `lower_priority`) and never stops serving: a failed pass is logged and
the next one tries again.
"""
from __future__ import annotations

import atexit
import logging
import threading

from flask import Flask

from search.community import Refresh, refresh_from_database
from web.community_search import community_index
from web.gap_worker import lower_priority

log = logging.getLogger(__name__)


class CommunityWorker:
    """The background thread; `run_pass()` is one pass, as the thread runs it."""

    def __init__(self, app: Flask, interval: float | None = None) -> None:
        settings = app.config["KB_SETTINGS"]
        self.app = app
        self.interval = settings.community_index_interval if interval is None else interval
        self.min_votes = settings.community_search_min_votes
        self.passed = threading.Event()  # set after each pass, failed or not
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-community-index", daemon=True)

    def start(self) -> "CommunityWorker":
        """Start the thread (not when `community_index_interval` is 0: community search is off)."""
        self.app.extensions["kb.community_worker"] = self
        if self.interval > 0:
            self._thread.start()
            atexit.register(self.close)
        return self

    def run_once(self) -> Refresh:
        service = self.app.extensions["kb.search"]
        service = service.pinned() if hasattr(service, "pinned") else service  # outside a request: the newest build
        return refresh_from_database(community_index(self.app), self.app.extensions["kb.db"], service,
                                     self.min_votes)

    def run_pass(self) -> Refresh | None:
        """One pass; None when it failed (logged, never raised into the serving process)."""
        try:
            done = self.run_once()
            if done.embedded or done.removed:
                log.info("community: %d question(s) searchable, %d embedded, %d dropped", done.documents,
                         done.embedded, done.removed)
            return done
        except Exception:  # noqa: BLE001  the thread outlives one bad pass; the next one tries again
            log.exception("community: index refresh failed")
            return None
        finally:
            self.passed.set()

    def _run(self) -> None:
        lower_priority()
        while not self._stop.is_set():
            self.run_pass()
            self._stop.wait(self.interval)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)
