"""Liveness and readiness for load balancers and orchestrators.

`/healthz` says the process answers (no database or index work). `/readyz` says whether it can serve: the index
loaded, the query model embedding a text, and the database answering `SELECT 1`; 503 names what is not ready.
Neither touches the session or sets a cookie, records analytics, counts against a rate limit, asks for a CSRF
token, or may be cached.
"""
from __future__ import annotations

import logging

import numpy as np
from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)
PROBE_TEXT = "readiness probe"


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/healthz")
def healthz():
    return _no_store(jsonify(status="ok"))


def _index_and_model() -> dict[str, str]:
    """The index and the query model of the build this request is pinned to: "ok" or why not."""
    try:
        service = current_app.extensions["kb.search"]
        built = service.manifest.built_at
        articles = len(service.articles)
    except Exception as exc:  # noqa: BLE001  any failure means "not ready", said by its kind
        return {"index": _failed("index", exc), "model": "index not loaded"}
    if not built or not articles:
        return {"index": "empty index", "model": "index not loaded"}
    try:
        vector = service.embed_queries([PROBE_TEXT], keep=False)[0]
        usable = vector.shape == (service.manifest.model_dimension,) and bool(np.isfinite(vector).all())
    except Exception as exc:  # noqa: BLE001
        return {"index": "ok", "model": _failed("model", exc)}
    return {"index": "ok", "model": "ok" if usable else "the model gives unusable vectors"}


def _database() -> str:
    try:
        with current_app.extensions["kb.engine"].connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001
        return _failed("database", exc)
    return "ok"


def _failed(part: str, exc: Exception) -> str:
    """What a probe says of a failed check: the error's kind only (its message may hold a URL with a password)."""
    log.warning("readiness: %s not ready: %s", part, type(exc).__name__)
    return type(exc).__name__


@bp.get("/readyz")
def readyz():
    checks = {**_index_and_model(), "database": _database()}
    waiting = [name for name, state in checks.items() if state != "ok"]
    body = {"status": "ready", "checks": checks} if not waiting else \
        {"status": "not ready", "not_ready": waiting, "checks": checks}
    return _no_store(jsonify(body)), 503 if waiting else 200


def init_app(app: Flask) -> None:
    """Register the probes, exempt from CSRF protection and the rate limiter (after web.security set them up)."""
    app.register_blueprint(bp)
    app.extensions["kb.csrf"].exempt(bp)
    app.extensions["kb.limiter"].exempt(bp)
