"""The rate-limit counters of one process (web/rate_counters.py): counted as limits' MemoryStorage counts, without
starting a thread on a hit, expired entries swept by a later hit."""
from __future__ import annotations

import threading
import time

import limits.storage.memory
import pytest
from limits import parse
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from web.rate_counters import ProcessCounters, storage_uri


class CountingTimer(threading.Timer):
    started = 0

    def start(self) -> None:
        CountingTimer.started += 1
        super().start()


@pytest.fixture
def timers(monkeypatch):
    """How many timer threads the storage module starts from now on."""
    monkeypatch.setattr(CountingTimer, "started", 0)
    monkeypatch.setattr(limits.storage.memory.threading, "Timer", CountingTimer)
    return CountingTimer


@pytest.mark.parametrize("storage_class, threads", [(MemoryStorage, True), (ProcessCounters, False)])
def test_hits_start_a_thread_with_the_library_storage_and_none_with_the_process_counters(timers, storage_class,
                                                                                       threads):
    limiter = MovingWindowRateLimiter(storage_class())
    timers.started = 0  # (the storage's first timer, started when it is made)
    item = parse("1000/minute")
    for n in range(50):
        assert limiter.hit(item, f"client-{n % 5}")
        time.sleep(0.002)  # the library's timer thread ends 10 ms after it starts, and a new one is started then
    assert (timers.started > 0) is threads, timers.started


def test_the_moving_window_counts_as_the_library_storage_does():
    ours, theirs = MovingWindowRateLimiter(ProcessCounters()), MovingWindowRateLimiter(MemoryStorage())
    item = parse("3/minute")
    for limiter in (ours, theirs):
        assert [limiter.hit(item, "ann") for _ in range(5)] == [True, True, True, False, False]
        assert limiter.hit(item, "bob") and limiter.test(item, "bob")
    assert ours.get_window_stats(item, "ann").remaining == theirs.get_window_stats(item, "ann").remaining == 0
    assert ours.get_window_stats(item, "bob").remaining == theirs.get_window_stats(item, "bob").remaining == 2


def test_a_hit_sweeps_expired_entries_once_a_sweep_is_due():
    storage = ProcessCounters()
    assert storage.acquire_entry("gone", 5, 0.05)
    time.sleep(0.1)  # the entry's window is over
    assert storage.acquire_entry("other", 5, 60)
    assert len(storage.events["gone"]) == 1  # no sweep yet: the first is due a second after the storage was made
    storage.sweep_seconds = 0.0
    storage._next_sweep = 0.0
    assert storage.acquire_entry("other", 5, 60)
    assert storage.events["gone"] == [] and len(storage.events["other"]) == 2


def test_memory_storage_is_counted_by_the_process_counters_and_others_as_configured():
    assert storage_uri("memory://") == "kb+memory://"
    assert isinstance(storage_from_string(storage_uri("memory://")), ProcessCounters)
    assert storage_uri("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_the_portal_counts_with_the_process_counters(app):
    assert isinstance(app.extensions["kb.limiter"].storage, ProcessCounters)
