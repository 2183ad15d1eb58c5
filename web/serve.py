"""`kb serve`: the portal behind waitress, a production WSGI server."""
from __future__ import annotations

from typing import Callable

from kb.config import Settings

THREADS = 8


def serve_portal(settings: Settings, preview: bool = False, report: Callable[[str], None] = print) -> None:
    """Serve the portal on settings.host:settings.port until interrupted; a newly built index is picked up
    without a restart, and with `preview` open pages reload themselves after a rebuild."""
    from waitress import serve

    from web import create_app

    app = create_app(settings, preview=preview)
    report(f"serving the help portal on http://{settings.host}:{settings.port}/")
    serve(app, host=settings.host, port=settings.port, threads=THREADS)
