"""When the database goes away: a request is tried once more when its connection dropped before it committed
anything, and a database that cannot be reached is answered with a 503 (a page in the interface language, JSON
under /api/), with Retry-After, never a 500.

Every pool tests a connection before lending it (kb/helpdesk/db.py), so a request after a database restart gets a
fresh connection. What is left is the connection lost in the middle of a request: SQLAlchemy invalidates it
(`DBAPIError.connection_invalidated`) and the request is run again, on a new session, once, but only while none
of its transactions sent a COMMIT: a commit whose answer was lost may have been applied, and doing the work again
could do it twice. Nothing needs a restart when the database is back: the next request connects again.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g, has_app_context, request
from sqlalchemy import event
from sqlalchemy.exc import PendingRollbackError, SQLAlchemyError

from kb.helpdesk.db import connection_dropped, unreachable
from web.context import close_db

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5  # what a 503 asks a client to wait before trying again


def init_app(app: Flask) -> None:
    engine = app.extensions["kb.engine"]
    event.listen(engine, "commit", _commit_sent)
    event.listen(engine, "handle_error", _error_seen)
    app.register_error_handler(SQLAlchemyError, _database_error)


def _commit_sent(_connection) -> None:
    if has_app_context():
        g.kb_commit_sent = True


def _error_seen(context) -> None:
    """Remember a lost or refused connection, even one whose error some code caught (a rate limit's key, say): the
    session then refuses every statement with PendingRollbackError, which says nothing of why."""
    if has_app_context() and (context.is_disconnect or unreachable(context.sqlalchemy_exception)):
        g.kb_connection_lost = True


def _dropped(error: SQLAlchemyError) -> bool:
    return connection_dropped(error) or (isinstance(error, PendingRollbackError)
                                         and bool(g.get("kb_connection_lost")))


def _forget_session() -> None:
    """Close this request's database session and what was read through it: the next use opens a new one."""
    close_db()
    g.pop("user", None)


def _database_error(error: SQLAlchemyError):
    if _dropped(error) and not g.get("kb_commit_sent") and not g.get("kb_retried"):
        g.kb_retried = True
        _forget_session()
        log.warning("database connection lost during %s %s; trying it once more", request.method, request.path)
        try:
            answer = current_app.preprocess_request()
            return answer if answer is not None else current_app.dispatch_request()
        except Exception as again:  # noqa: BLE001  answered as the first try's error would have been
            return current_app.handle_user_exception(again)
    if not (unreachable(error) or _dropped(error)):
        raise error  # a refused statement is a fault of this code: a 500, logged with its traceback
    log.error("database unreachable during %s %s: %s", request.method, request.path,
              str(error).splitlines()[0] if str(error) else type(error).__name__)
    _forget_session()
    g.user = None  # the error page is drawn for nobody: asking who is signed in would ask the database again
    from web.errors import respond

    response = current_app.make_response(respond(503))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
