"""How a serving process runs: its request log and how long it takes to stop (one part of the one Settings object,
kb/config.py)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kb.config_fields import _setting

REQUEST_LOG_OFF, REQUEST_LOG_STDERR = "off", "stderr"


def _request_log(value: str) -> None:
    if value in (REQUEST_LOG_OFF, REQUEST_LOG_STDERR):
        return
    if not value.strip():
        raise ValueError(f"must be `{REQUEST_LOG_OFF}`, `{REQUEST_LOG_STDERR}` or a file path, not an empty value")
    if Path(value).is_dir():
        raise ValueError(f"must name a file, not the folder {value!r}")


@dataclass(frozen=True)
class ServingSettings:
    """The serving process (`kb serve`, `kb workers`, the WSGI entry point web/wsgi.py)."""

    request_log: str = _setting(REQUEST_LOG_OFF, "One JSON line per request (time, request id, method, path without its query string, status, duration): `off`, `stderr`, or a file appended to (reopened when log rotation moves it).",
                                check=_request_log, allowed="`off`, `stderr` or a file path")
    shutdown_timeout: float = _setting(30.0, "On SIGTERM or SIGINT, `kb serve` and `kb workers` stop taking requests and wait at most this many seconds for those in flight and the background passes before they exit.",
                                       minimum=0, maximum=3600)
