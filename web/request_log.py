"""Request ids and the request log: every response carries an `X-Request-ID` (the client's own, when it sent a
well-formed one, else a new one), and with `request_log` set every request is written as one JSON line.

A line holds the time, request id, method, path, status and duration, and nothing a request carries: no query
string, no headers or cookies, no form or ticket text, and no address of the client. A path with a one-time token in
it (a password reset link, an invitation, an unsubscribe link) is written as its route, e.g.
`/reset-password/<token>`. The log is written by a WSGI middleware around the whole app, so a request that ends in
an error page or a rate limit is written too, when its response is done (the duration includes sending the body).
"""
from __future__ import annotations

import json
import logging
import logging.handlers
import re
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from flask import Flask, request
from werkzeug.wsgi import ClosingIterator

from kb.config import Settings
from kb.config_serving import REQUEST_LOG_OFF, REQUEST_LOG_STDERR
from kb.errors import ConfigError

HEADER = "X-Request-ID"
ENVIRON_KEY = "kb.request_id"
_ROUTE_KEY = "kb.logged_path"
_INCOMING = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # short, and nothing a log line or a header could be bent by
SECRET_ARGS = frozenset({"token"})  # URL parts that open something: their route is logged instead
MAX_PATH = 2000


def request_id() -> str:
    """This request's id (as echoed in its response's X-Request-ID header)."""
    return request.environ.get(ENVIRON_KEY, "")


def accepted_id(value: str | None) -> str | None:
    """An incoming X-Request-ID when it is short and of letters, digits and `._:-` only; else None."""
    return value if value is not None and _INCOMING.fullmatch(value) else None


class _Stderr(logging.StreamHandler):
    """Standard error as it is when a line is written (not as it was when the app was made)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def open_log(destination: str) -> logging.Logger | None:
    """A logger of its own (not in logging's registry, so each app has one) writing bare lines to `destination`
    (the `request_log` setting); None when it is `off`."""
    if destination == REQUEST_LOG_OFF:
        return None
    if destination == REQUEST_LOG_STDERR:
        handler: logging.Handler = _Stderr()
    else:
        path = Path(destination)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"setting 'request_log': cannot write {str(path)!r}: {exc.strerror}") from None
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.Logger("kb.requests", logging.INFO)
    log.addHandler(handler)
    log.propagate = False
    return log


class RequestLog:
    """WSGI middleware: gives each request its id, echoes it in the response, writes the request's line."""

    def __init__(self, app: Callable, log: logging.Logger | None) -> None:
        self.app, self.log = app, log

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        rid = accepted_id(environ.get("HTTP_X_REQUEST_ID")) or uuid.uuid4().hex
        environ[ENVIRON_KEY] = rid
        status: list[str] = []

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None):
            status[:] = [code]
            headers = [(name, value) for name, value in headers if name.lower() != HEADER.lower()]
            return start_response(code, [*headers, (HEADER, rid)], exc_info)

        if self.log is None:
            return self.app(environ, start)
        try:
            body = self.app(environ, start)
        except BaseException:
            self._write(environ, rid, "500", started)
            raise
        return ClosingIterator(body, lambda: self._write(environ, rid, status[0] if status else "500", started))

    def _write(self, environ: dict, rid: str, status: str, started: float) -> None:
        path = environ.get(_ROUTE_KEY) or (environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""))
        line = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "request_id": rid, "method": environ.get("REQUEST_METHOD", ""), "path": path[:MAX_PATH],
                "status": int(status.split(" ", 1)[0]) if status[:3].isdigit() else 0,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1)}
        self.log.info(json.dumps(line, ensure_ascii=False, separators=(",", ":")))


def init_app(app: Flask, settings: Settings) -> None:
    """Wrap the whole app (called last by the app factory, so the middleware is the outermost)."""
    app.wsgi_app = RequestLog(app.wsgi_app, open_log(settings.request_log))

    @app.url_value_preprocessor
    def hide_tokens(_endpoint: str | None, values: dict | None) -> None:
        if values and SECRET_ARGS & values.keys() and request.url_rule is not None:
            request.environ[_ROUTE_KEY] = request.script_root + request.url_rule.rule
