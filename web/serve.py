"""`kb serve`: the portal behind waitress, with its background threads, in one process; `kb workers`: the
background threads alone, beside a multi-process server (web/wsgi.py) that runs none of them.

The background threads: one sends reminders, closes tickets that waited too long and, with `mail_sender = on`,
delivers the outbox (web/mail_worker.py); another embeds, hourly and at low priority, the texts `kb gaps` will read
(web/gap_worker.py); a third keeps the community answers searched beside the articles fresh
(web/community_worker.py). Each deployment runs them in exactly one process: `kb serve`, or else `kb workers`.
"""
from __future__ import annotations

import time
from typing import Callable

from flask import Flask

from kb.config import Settings

THREADS = 8


def start_workers(app: Flask) -> list:
    """Start the background threads of `app`'s process; the started workers."""
    from web.community_worker import CommunityWorker
    from web.gap_worker import GapWorker
    from web.mail_worker import MailWorker

    return [MailWorker(app).start(), GapWorker(app).start(), CommunityWorker(app).start()]


def stop_workers(workers: list, timeout: float) -> int:
    """Ask every worker to stop, then wait for them together at most `timeout` seconds; how many still run."""
    for worker in workers:
        worker.stop()
    deadline = time.monotonic() + timeout
    return sum(not worker.close(timeout=max(0.0, deadline - time.monotonic())) for worker in workers)


def _say_where_mail_goes(settings: Settings, report: Callable[[str], None]) -> None:
    if settings.mail_sender == "on":
        report("sending e-mail through " + (f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host
                                            else "nobody yet (smtp_host is empty: mail waits in the outbox)"))


def serve_portal(settings: Settings, preview: bool = False, report: Callable[[str], None] = print) -> None:
    """Serve the portal on settings.host:settings.port until SIGTERM or SIGINT, then finish the requests in flight
    and stop the background threads (both within `shutdown_timeout`); a newly built index is picked up without a
    restart, and with `preview` open pages reload themselves after a rebuild."""
    from web import create_app
    from web.graceful import serve_until_stopped

    app = create_app(settings, preview=preview)
    workers = start_workers(app)
    _say_where_mail_goes(settings, report)
    report(f"serving the help portal on http://{settings.host}:{settings.port}/")
    asked: list[float] = []

    def stopping() -> None:  # the threads stop their passes while the requests in flight finish
        asked.append(time.monotonic())
        for worker in workers:
            worker.stop()

    try:
        cut_short = serve_until_stopped(app, settings.host, settings.port, THREADS, settings.shutdown_timeout,
                                        report, on_stop=stopping)
    finally:
        deadline = (asked[0] if asked else time.monotonic()) + settings.shutdown_timeout
        running = stop_workers(workers, max(0.0, deadline - time.monotonic()))
    report(_stopped(cut_short, running))


def run_workers(settings: Settings, report: Callable[[str], None] = print) -> None:
    """The background threads alone, for a deployment whose portal runs in a multi-process server (web/wsgi.py),
    until SIGTERM or SIGINT; then they finish their pass in hand (within `shutdown_timeout`)."""
    from web import create_app
    from web.graceful import StopSignals

    app = create_app(settings)
    with StopSignals() as signals:
        workers = start_workers(app)
        _say_where_mail_goes(settings, report)
        report("running the background work (mail, gaps, community index); stop with SIGTERM or SIGINT")
        signals.wait()
        report(f"{signals.received}: stopping the background work (at most {settings.shutdown_timeout:g} s)")
        running = stop_workers(workers, settings.shutdown_timeout)
    report(_stopped(0, running))


def _stopped(cut_short: int, running: int) -> str:
    problems = ([f"{cut_short} request(s) cut short"] if cut_short else []) + \
               ([f"{running} background thread(s) still busy"] if running else [])
    return "stopped" + (f" ({', '.join(problems)})" if problems else "")
