"""What a request knows about who asks: its database session, the signed-in user, the visitor id."""
from __future__ import annotations

import functools
import re
import secrets
from typing import Any, Callable

from flask import Flask, current_app, g, redirect, request, session, url_for
from sqlalchemy.orm import Session

from kb.accounts import end_sessions
from kb.models import User
from web import sessions

VISITOR_COOKIE = "kb_visitor"
_VISITOR_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def db() -> Session:
    """This request's database session, opened on first use and closed when the request ends."""
    if "kb_db" not in g:
        g.kb_db = current_app.extensions["kb.db"]()
    return g.kb_db


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


def visitor() -> str:
    """Who votes and views: the signed-in user, else a random id kept in a cookie."""
    user = current_user()
    if user is not None:
        return f"user:{user.id}"
    if "visitor" not in g:
        cookie = request.cookies.get(VISITOR_COOKIE, "")
        g.visitor = cookie if _VISITOR_RE.match(cookie) else secrets.token_urlsafe(18)
        g.new_visitor = g.visitor != cookie
    return f"v:{g.visitor}"


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
    sessions.lifetimes(app.config["KB_SETTINGS"])  # a bad session lifetime stops the start, naming the setting

    @app.after_request
    def keep_visitor(response):
        if g.get("new_visitor"):
            response.set_cookie(VISITOR_COOKIE, g.visitor, max_age=365 * 24 * 3600, httponly=True,
                                samesite="Lax", secure=current_app.config["KB_COOKIE_SECURE"])
        return response

    @app.teardown_appcontext
    def close_db(_exc) -> None:
        session_ = g.pop("kb_db", None)
        if session_ is not None:
            session_.close()

    from web.linkify import linkify

    app.add_template_filter(linkify)

    @app.context_processor
    def who() -> dict:
        return {"user": current_user()}
