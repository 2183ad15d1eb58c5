"""Helpers for tests that run work in threads or wait for something another thread does."""
from __future__ import annotations

import threading
import time
from typing import Callable


def while_running(work: Callable[[], None], action: Callable[[], None], threads: int = 4) -> list[BaseException]:
    """Call `work()` over and over from `threads` threads while `action()` runs; the exceptions `work` raised."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                work()
            except BaseException as exc:  # noqa: BLE001 - any failure is what the caller counts
                errors.append(exc)

    running = [threading.Thread(target=loop) for _ in range(threads)]
    for t in running:
        t.start()
    try:
        action()
    finally:
        stop.set()
        for t in running:
            t.join()
    return errors


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
