"""What a request knows about who asks: its database session, the signed-in user, the visitor id."""
from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import re
import secrets
from typing import Any, Callable

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from itsdangerous import BadSignature, Signer
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from kb.helpdesk.accounts import end_sessions
from kb.helpdesk.models import User
from web import sessions

log = logging.getLogger(__name__)

VISITOR_COOKIE = "kb_visitor"
_VISITOR_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def db() -> Session:
    """This request's database session, opened on first use and closed when the request ends."""
    if "kb_db" not in g:
        g.kb_db = current_app.extensions["kb.db"]()
    return g.kb_db


def close_db() -> None:
    """Close this request's database session, if it opened one (the next `db()` opens a new one). A connection that
    died meanwhile leaves nothing to roll back: that is logged, not raised."""
    session_ = g.pop("kb_db", None)
    if session_ is not None:
        try:
            session_.close()
        except SQLAlchemyError as exc:
            log.warning("database session not closed cleanly: %s", str(exc).splitlines()[0] if str(exc) else exc)


def current_user() -> User | None:
    """The signed-in user, while the session is neither expired nor ended (see web.sessions)."""
    if "user" not in g:
        g.user = sessions.resume(db)
    return g.user


def sign_in(user: User) -> None:
    sessions.start(user)
    g.user = user


def sign_out() -> None:
    """End the session: this cookie and every copy of it (and the user's other sessions) stop working."""
    user = current_user()
    if user is not None:
        end_sessions(db(), user)
        db().commit()
    session.clear()
    g.user = None


def _visitor_signer() -> Signer:
    return Signer(current_app.secret_key, salt="kb.visitor")


def _issued_visitor_id() -> str | None:
    """The visitor id in this request's cookie, if this server issued it (signed with the secret key)."""
    try:
        issued = _visitor_signer().unsign(request.cookies.get(VISITOR_COOKIE, "")).decode("ascii")
    except (BadSignature, UnicodeDecodeError):
        return None
    return issued if _VISITOR_RE.match(issued) else None


def visitor() -> str:
    """Who votes and views: the signed-in user, else the visitor id this server issued in a signed cookie.

    A missing, forged or self-chosen cookie gets a new id, unless the client's address has been given
    `rate_limit_new_visitors` already: then the address stands for the visitor, so that a client throwing its
    cookies away counts as a bounded number of visitors (stored as a keyed hash of the address, never the address
    itself)."""
    user = current_user()
    if user is not None:
        return f"user:{user.id}"
    if "visitor" not in g:
        from web.rate_limits import client_address, may_issue_visitor_id

        issued = _issued_visitor_id()
        if issued is not None:
            g.visitor = f"v:{issued}"
        elif may_issue_visitor_id():
            issued = secrets.token_urlsafe(18)
            g.visitor, g.visitor_cookie = f"v:{issued}", _visitor_signer().sign(issued).decode("ascii")
        else:
            g.visitor = f"a:{_address_id(client_address())}"
    return g.visitor


def _address_id(address: str) -> str:
    """A client address as a visitor id: an HMAC of it under the app's secret key (24 hex characters)."""
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"kb.address:" + address.encode(), hashlib.sha256).hexdigest()[:24]


def returning_visitor() -> bool:
    """Whether `visitor()` was known before this request (not an id issued just now): a vote needs one."""
    visitor()
    return g.get("visitor_cookie") is None


def agents_only():
    """A `before_request` for the ticket desk's blueprints: anonymous visitors are sent to sign in, everyone but
    agents and admins gets 404 (to them those pages do not exist)."""
    user = current_user()
    if user is None:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if not user.works_tickets:
        abort(404)
    return None


def signed_in(view: Callable) -> Callable:
    """A page for any signed-in person (customers and staff alike); others are sent to sign in first."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def sign_in_required(view: Callable) -> Callable:
    """A customer's page: anonymous visitors are sent to sign in, staff to the agent desk."""
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        if user.is_staff:
            return redirect(url_for("desk.queue"))
        return view(*args, **kwargs)
    return wrapper


def route_group(category: str | None) -> str:
    """The agent group a new ticket with this predicted category goes to (the `routing` setting)."""
    return current_app.extensions["kb.routing"].group_for(category)


def init_app(app: Flask) -> None:
    @app.after_request
    def keep_visitor(response):
        if g.get("visitor_cookie"):
            from web.security import request_cookies_secure

            response.set_cookie(VISITOR_COOKIE, g.visitor_cookie, max_age=365 * 24 * 3600, httponly=True,
                                samesite="Lax", secure=request_cookies_secure())
        return response

    @app.teardown_appcontext
    def close_request_db(_exc) -> None:
        close_db()

    from web.linkify import linkify

    app.add_template_filter(linkify)

    @app.context_processor
    def who() -> dict:
        return {"user": current_user()}
