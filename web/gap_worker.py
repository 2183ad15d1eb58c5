"""The serving process's upkeep of `kb gaps`' vector cache (`kb serve`): one background thread that, every
INTERVAL seconds (the first time soon after start), embeds the failed-search and ticket texts the cache lacks
(search/gap_upkeep.py). It runs at the lowest CPU priority the system gives a thread (on Linux, a thread's nice
value is its own), embeds in small batches with the serving encoder (one compute thread with the default
`embedding_threads = 1`), and never stops serving: a pass that fails is logged and the next one tries again.
Several processes may run it at once: the cache file takes their rows one writer at a time (search/vector_cache.py).
"""
from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from datetime import datetime

from flask import Flask

from search.gap_upkeep import Upkeep, warm_gap_vectors

log = logging.getLogger(__name__)
INTERVAL = 3600.0  # seconds between passes
START_DELAY = 60.0  # the first pass waits for the process's start-up (the index, the first requests)
LOWEST_PRIORITY = 19


class GapWorker:
    """The background thread; `run_pass()` is one pass, as the thread runs it."""

    def __init__(self, app: Flask, interval: float = INTERVAL, start_delay: float = START_DELAY) -> None:
        self.app, self.interval, self.start_delay = app, interval, start_delay
        self.passes = 0
        self.passed = threading.Event()  # set after each pass, failed or not
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-gap-vectors", daemon=True)

    def start(self) -> "GapWorker":
        self.app.extensions["kb.gap_worker"] = self
        self._thread.start()
        atexit.register(self.close)
        return self

    def run_once(self, now: datetime | None = None) -> Upkeep:
        service = self.app.extensions["kb.search"]
        service = service.pinned() if hasattr(service, "pinned") else service  # outside a request: the newest build
        return warm_gap_vectors(self.app.extensions["kb.db"], service,
                                self.app.config["KB_SETTINGS"].model_cache_dir, now, stop=self._stop)

    def run_pass(self, now: datetime | None = None) -> Upkeep | None:
        """One pass; None when it failed (logged, never raised into the serving process)."""
        try:
            done = self.run_once(now)
            if done.embedded:
                log.info("gaps: %d of %d text(s) embedded ahead of `kb gaps`", done.embedded, done.texts)
            return done
        except Exception:  # noqa: BLE001  the thread outlives one bad pass; the next one tries again
            log.exception("gaps: vector cache upkeep failed")
            return None
        finally:
            self.passes += 1
            self.passed.set()

    def _run(self) -> None:
        lower_priority()
        if self._stop.wait(self.start_delay):
            return
        while not self._stop.is_set():
            self.run_pass()
            self._stop.wait(self.interval)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout=10)


def lower_priority() -> bool:
    """Give the calling thread the lowest CPU priority (Linux only, where a thread has a nice value of its own;
    elsewhere the call would lower the whole process). Whether it was lowered."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST_PRIORITY)
    except OSError:
        return False
    return True
