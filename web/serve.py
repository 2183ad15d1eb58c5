"""`kb serve`: the portal behind waitress, a production WSGI server."""
from __future__ import annotations

from typing import Callable

from kb.config import Settings

THREADS = 8


def serve_portal(settings: Settings, preview: bool = False, report: Callable[[str], None] = print) -> None:
    """Serve the portal on settings.host:settings.port until interrupted; a newly built index is picked up
    without a restart, and with `preview` open pages reload themselves after a rebuild. A background thread sends reminders,
    closes tickets that waited too long and, with `mail_sender = on`, delivers the outbox (web/mail_worker.py); another
    embeds, hourly and at low priority, the texts `kb gaps` will read (web/gap_worker.py); a third keeps the community
    answers searched beside the articles fresh (web/community_worker.py)."""
    from waitress import serve

    from web import create_app
    from web.community_worker import CommunityWorker
    from web.gap_worker import GapWorker
    from web.mail_worker import MailWorker

    app = create_app(settings, preview=preview)
    MailWorker(app).start()
    GapWorker(app).start()
    CommunityWorker(app).start()
    if settings.mail_sender == "on":
        report("sending e-mail through " + (f"{settings.smtp_host}:{settings.smtp_port}" if settings.smtp_host
                                            else "nobody yet (smtp_host is empty: mail waits in the outbox)"))
    report(f"serving the help portal on http://{settings.host}:{settings.port}/")
    serve(app, host=settings.host, port=settings.port, threads=THREADS)
