"""Signing in and out (e-mail and password; the session cookie carries the user id, see web.sessions)."""
from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.helpdesk.accounts import authenticate
from web.context import current_user, db, sign_in as start_session, sign_out as end_session
from web.forms import ActionForm, SignInForm
from web.notifications import remember_language

bp = Blueprint("auth", __name__)
NEXT_MAX = 2000
# Control characters, and the spaces and separators a browser or server might drop or read as a line break.
# Backslashes too (some browsers read them as slashes), and lone surrogates (which no URL can carry).
_DOUBTFUL = re.compile(r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff"
                       r"\ud800-\udfff\\]")
# What a path or query may keep as it is; everything else is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"


def local_path(target: str | None) -> str | None:
    """`target` as a clean path on this site (percent-encoded ASCII), or None when it is anything else or doubtful:
    an absolute or scheme-relative URL, a backslash, a control character, a space or a line break anywhere."""
    if not isinstance(target, str) or not target or len(target) > NEXT_MAX or _DOUBTFUL.search(target):
        return None
    if not target.startswith("/") or target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    path = quote(parts.path, safe=_PATH_SAFE)
    if not path.startswith("/") or path.startswith("//"):
        return None
    query = quote(parts.query, safe=_QUERY_SAFE)
    fragment = quote(parts.fragment, safe=_QUERY_SAFE)
    return path + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")


def safe_next(target: str | None) -> str:
    """Where to go after a form: only a clean path on this site (no open redirect, no header injection);
    anything doubtful goes to the home page."""
    return local_path(target) or url_for("portal.home")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = local_path(request.args.get("next")) or ""
        if current_user() is not None:
            return redirect(safe_next(form.next.data))
    status = 200
    if form.validate_on_submit():
        user = authenticate(db(), form.email.data, form.password.data)
        if user is not None:
            remember_language(user)  # e-mail to them is written in the language they use here
            db().commit()
            start_session(user)
            flash(_("You are signed in."), "info")  # no address: flashed messages travel in the cookie
            target = local_path(form.next.data)
            if user.is_staff and not target:
                return redirect(url_for("desk.queue") if user.works_tickets else url_for("insights.page"))
            return redirect(target or url_for("portal.home"))
        form.password.errors = [_("E-mail or password is not right.")]
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("sign_in.html", form=form), status


@bp.post("/sign-out")
def sign_out():
    form = ActionForm()
    if form.validate_on_submit():
        end_session()
        flash(_("You are signed out."), "info")
    return redirect(url_for("portal.home"))
