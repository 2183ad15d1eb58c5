"""Stopping a serving process gracefully: on SIGTERM or SIGINT it stops taking connections, finishes the requests in
flight (for at most `shutdown_timeout` seconds; a second signal cuts that short), and returns, so that its caller can
stop the background threads and exit 0.

waitress is wrapped here alone: its `serve()` stops on Ctrl-C by dropping the replies of the requests in hand (they
are written by the event loop, which has stopped), so this module runs the event loop itself, one turn at a time.
"""
from __future__ import annotations

import signal
import threading
import time
from typing import Any, Callable

from kb.errors import ConfigError

SIGNALS = (signal.SIGTERM, signal.SIGINT)
DRAIN_TURN = 0.05  # seconds the event loop waits per turn while requests are finished


class StopSignals:
    """While entered (in the main thread): the first SIGTERM or SIGINT sets `stopping`, a second one `hurry`;
    `wake` is called from the signal handler (it must only write to a pipe or set an event)."""

    def __init__(self, wake: Callable[[], None] = lambda: None) -> None:
        self.stopping, self.hurry = threading.Event(), threading.Event()
        self.received = ""  # the first signal's name
        self._wake = wake
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "StopSignals":
        for number in SIGNALS:
            self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(self, *_exc: Any) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)

    def _handle(self, number: int, _frame: Any) -> None:
        if self.stopping.is_set():
            self.hurry.set()
        else:
            self.received = signal.Signals(number).name
            self.stopping.set()
        self._wake()

    def wait(self) -> None:
        """Block until a signal asks to stop (woken at least once a second, so that handlers run)."""
        while not self.stopping.wait(1.0):
            pass


def _busy(channel: Any) -> bool:
    """Whether a connection has a request in hand: being read, waiting for a thread, being run or being sent."""
    return bool(channel.requests or channel.request is not None or channel.total_outbufs_len)


def serve_until_stopped(app: Callable, host: str, port: int, threads: int, grace: float,
                        report: Callable[[str], None], on_stop: Callable[[], None] = lambda: None) -> int:
    """Serve `app` with waitress on host:port until SIGTERM or SIGINT, then drain as the module says (`on_stop` is
    called as the draining starts). Returns how many connections still had a request in hand when the grace period
    ended (0 when every request was finished). A host and port that cannot be listened on are a ConfigError."""
    from waitress import create_server, wasyncore
    from waitress.channel import HTTPChannel
    from waitress.server import BaseWSGIServer

    try:
        server = create_server(app, host=host, port=port, threads=threads)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sockets = getattr(server, "map", None)  # several listening sockets (a name with several addresses)
    sockets = server._map if sockets is None else sockets
    listeners = [d for d in sockets.values() if isinstance(d, BaseWSGIServer)]
    adj = listeners[0].adj

    def turn(timeout: float) -> None:
        wasyncore.loop(timeout=timeout, map=sockets, use_poll=adj.asyncore_use_poll, count=1)

    with StopSignals(wake=listeners[0].pull_trigger) as signals:
        while not signals.stopping.is_set():
            turn(adj.asyncore_loop_timeout)
        for listener in listeners:  # the listening sockets only: the wake-up pipe and the connections stay
            wasyncore.dispatcher.close(listener)
        channels = [d for d in sockets.values() if isinstance(d, HTTPChannel)]
        in_flight = sum(_busy(c) for c in channels)
        on_stop()
        report(f"{signals.received}: no new connections; finishing {in_flight} request(s) in flight "
               f"(at most {grace:g} s)")
        deadline = time.monotonic() + grace
        while not signals.hurry.is_set() and time.monotonic() < deadline:
            channels = [d for d in sockets.values() if isinstance(d, HTTPChannel)]
            for channel in channels:
                if not _busy(channel):
                    channel.will_close = True  # an idle kept-alive connection is closed, not given another request
            if not any(_busy(c) for c in channels):
                break
            turn(DRAIN_TURN)
        left = sum(_busy(d) for d in sockets.values() if isinstance(d, HTTPChannel))
    listeners[0].task_dispatcher.shutdown(cancel_pending=True, timeout=1 if left else 5)
    wasyncore.close_all(sockets)
    return left
