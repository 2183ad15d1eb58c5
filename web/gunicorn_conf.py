"""gunicorn's settings for the portal (`gunicorn -c python:web.gunicorn_conf 'web.wsgi:application()'`): where it
listens and how long it waits for requests in flight come from kb's settings (`host`, `port`, `shutdown_timeout`);
one worker process per core unless WEB_CONCURRENCY says otherwise. gunicorn's own flags (--bind, --workers, ...)
win over these."""
from __future__ import annotations

import math
import os

from web.wsgi import one_compute_thread

one_compute_thread()  # before the settings' checks may load numpy: the worker processes inherit what it set up
from kb.config import load_settings  # noqa: E402

_settings = load_settings()
_host = f"[{_settings.host}]" if ":" in _settings.host else _settings.host

bind = [f"{_host}:{_settings.port}"]
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 1)
worker_class = "sync"  # one request at a time per process: a search is CPU work, and each worker has one thread
graceful_timeout = math.ceil(_settings.shutdown_timeout)  # SIGTERM: stop accepting, finish requests in flight, exit
timeout = 60  # a worker silent this long (stuck) is replaced
# The scheme and client address are taken from proxy headers by kb itself, as `proxy_hops` says (web/security.py),
# as under `kb serve`: gunicorn believes none of them.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}
accesslog = None  # kb writes its own request log (`request_log`)
control_socket_disable = True  # one socket per user's home: a second gunicorn on the machine would take it over
errorlog = "-"



def on_starting(server) -> None:
    """Upgrade the database schema once, here in the master before any worker starts: workers each upgrading an
    old schema at once would race (the second to add a column fails, and gunicorn stops). Each worker's own
    start-up then finds the schema current."""
    import sys

    from kb.errors import KbError
    from kb.helpdesk.operations import migrate

    try:
        migrate(_settings.database_url)  # (its connections closed: no worker inherits one)
    except KbError as exc:
        print(f"kb: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
