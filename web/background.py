"""The background threads of a serving process (`kb serve`): a pass of upkeep every `interval` seconds, at the
lowest CPU priority a thread gets, that never stops serving: a failed pass is logged (on the subclass's module's
logger) and the next one tries again. Subclasses say what one pass does (`run_once`) and what is worth logging of it
(`report`)."""
from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from typing import Any

from flask import Flask

LOWEST_PRIORITY = 19


class PeriodicPass:
    """One daemon thread; `run_pass()` is one pass, as the thread runs it. An `interval` of 0 starts no thread."""

    thread_name = "kb-background"
    extension = "kb.background"  # where the app keeps the worker
    failure = "background pass failed"

    def __init__(self, app: Flask, interval: float, start_delay: float = 0.0) -> None:
        self.app, self.interval, self.start_delay = app, interval, start_delay
        self.log = logging.getLogger(type(self).__module__)
        self.passes = 0
        self.passed = threading.Event()  # set after each pass, failed or not
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)

    def start(self):
        self.app.extensions[self.extension] = self
        if self.interval > 0:
            self._thread.start()
            atexit.register(self.close)
        return self

    def served(self):
        """The app's search service; outside a request, the newest build."""
        service = self.app.extensions["kb.search"]
        return service.pinned() if hasattr(service, "pinned") else service

    def run_once(self, *args: Any) -> Any:
        raise NotImplementedError

    def report(self, done: Any) -> None:
        """Log what a pass did, when worth it."""

    def run_pass(self, *args: Any) -> Any | None:
        """One pass; None when it failed (logged, never raised into the serving process)."""
        try:
            done = self.run_once(*args)
            self.report(done)
            return done
        except Exception:  # noqa: BLE001  the thread outlives one bad pass; the next one tries again
            self.log.exception(self.failure)
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

    def stop(self) -> None:
        """Ask the thread to stop after its pass in hand (`close` also waits for it)."""
        self._stop.set()

    def close(self, timeout: float = 10) -> bool:
        """Stop the thread and wait for it at most `timeout` seconds; whether it has stopped."""
        self.stop()
        return joined(self._thread, timeout)


def joined(thread: threading.Thread, timeout: float) -> bool:
    """Wait at most `timeout` seconds for `thread` to end (never for the calling thread itself); whether it has."""
    if thread.is_alive() and thread is not threading.current_thread():
        thread.join(timeout=timeout)
    return not thread.is_alive()


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
