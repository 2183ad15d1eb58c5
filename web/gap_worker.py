"""The serving process's upkeep of `kb gaps`' vector cache (`kb serve`): one background thread that, every
INTERVAL seconds (the first time soon after start), embeds the failed-search and ticket texts the cache lacks
(search/gap_upkeep.py). It runs at the lowest CPU priority the system gives a thread (on Linux, a thread's nice
value is its own; web/background.py), embeds in small batches with the serving encoder (one compute thread with the
default `embedding_threads = 1`), and never stops serving: a pass that fails is logged and the next one tries again.
Several processes may run it at once: the cache file takes their rows one writer at a time (search/vector_cache.py).
"""
from __future__ import annotations

from datetime import datetime

from flask import Flask

from search.gap_upkeep import Upkeep, warm_gap_vectors
from web.background import PeriodicPass

INTERVAL = 3600.0  # seconds between passes
START_DELAY = 60.0  # the first pass waits for the process's start-up (the index, the first requests)


class GapWorker(PeriodicPass):
    thread_name, extension, failure = "kb-gap-vectors", "kb.gap_worker", "gaps: vector cache upkeep failed"

    def __init__(self, app: Flask, interval: float = INTERVAL, start_delay: float = START_DELAY) -> None:
        super().__init__(app, interval, start_delay)

    def run_once(self, now: datetime | None = None) -> Upkeep:
        return warm_gap_vectors(self.app.extensions["kb.db"], self.served(),
                                self.app.config["KB_SETTINGS"].model_cache_dir, now, stop=self._stop)

    def report(self, done: Upkeep) -> None:
        if done.embedded:
            self.log.info("gaps: %d of %d text(s) embedded ahead of `kb gaps`", done.embedded, done.texts)
