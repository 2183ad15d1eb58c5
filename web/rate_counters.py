"""Rate-limit counters kept in the serving process (`rate_limit_storage = memory://`, the default).

They are the `limits` library's MemoryStorage with one change: its expired entries are swept by the request that
finds a sweep due, at most once a second, instead of by a `threading.Timer` that the library starts anew on almost
every hit (the previous one has finished 10 ms after it started). Starting a thread costs a request far more than
the sweep: the request waits until the new thread runs, and under load that thread must first take the interpreter
lock from the other requests' threads; a cached `/api/suggest` spent about 40% of its time there. Counting is
unchanged (a moving window reads its entries' times, whenever they were swept); the sweep only frees memory.
"""
from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

from limits.storage import MemoryStorage

SCHEME = "kb+memory"
SWEEP_SECONDS = 1.0


class ProcessCounters(MemoryStorage):
    """MemoryStorage whose expired entries are swept by the hitting thread, at most every `sweep_seconds`."""

    STORAGE_SCHEME = [SCHEME]  # (registers the class with `limits`, for Flask-Limiter's storage URI)
    sweep_seconds = SWEEP_SECONDS

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._sweeping = threading.Lock()
        self._next_sweep = time.monotonic() + self.sweep_seconds

    def _MemoryStorage__schedule_expiry(self) -> None:
        """Called by MemoryStorage on every hit, where it would start a timer thread: sweep here when one is due
        (one thread sweeps; the others go on counting)."""
        now = time.monotonic()
        if now < self._next_sweep or not self._sweeping.acquire(blocking=False):
            return
        try:
            self._next_sweep = now + self.sweep_seconds
            self._MemoryStorage__expire_events()
        finally:
            self._sweeping.release()


def storage_uri(configured: str) -> str:
    """The storage URI to give Flask-Limiter for the `rate_limit_storage` setting: `memory://` counts with
    ProcessCounters, any other storage as configured."""
    if urlsplit(configured).scheme == "memory":
        return SCHEME + configured[len("memory"):]
    return configured
