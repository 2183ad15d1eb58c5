"""Signing in and out (e-mail and password; the session cookie carries the user id)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.accounts import authenticate
from web.context import current_user, db, sign_in as start_session, sign_out as end_session
from web.forms import ActionForm, SignInForm

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an absolute or scheme-relative URL (no open redirect)."""
    target = (target or "").strip()
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc or "\\" in target:
        return url_for("portal.home")
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    form = SignInForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user() is not None:
            return redirect(safe_next(form.next.data))
    status = 200
    if form.validate_on_submit():
        user = authenticate(db(), form.email.data, form.password.data)
        if user is not None:
            start_session(user)
            flash(_("Signed in as %(email)s.", email=user.email), "info")
            if user.is_staff and not form.next.data:
                return redirect(url_for("desk.queue"))
            return redirect(safe_next(form.next.data))
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
