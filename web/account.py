"""A person's own account: "forgot password" and its link, and, signed in, a new password or e-mail address.

Whatever is asked for an address, the answer is the same page, whether or not the address has an account; an
address without one gets a decoy link row and a rendered (unsent) message, so the request also takes as long.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.errors import AccountError, LinkError
from kb.helpdesk.self_service import (change_password as set_own_password, confirm_email_change, request_email_change,
                                      request_reset, reset_link, reset_password as set_password)
from web.account_forms import AddressForm, ChangeEmailForm, ChangePasswordForm, NewPasswordForm
from web.context import current_user, db, sign_in as start_session, signed_in
from web.forms import ActionForm
from web.i18n import current_language
from web.mail import compose, external_url, recipient_language, render, settings

bp = Blueprint("account", __name__)


def neutral(message: str):
    """The one answer to a request for mail: the same bytes whatever the address."""
    return render_template("account/sent.html", message=message)


def link_refused():
    """Any link that cannot be used, for any reason: one page."""
    return render_template("account/link_error.html"), 400


def decoy(template: str) -> None:
    """Render the message a real request would send, and drop it: an unknown address costs the same time."""
    render(template, lang=current_language(), link=external_url("portal.home"))


@bp.after_app_request
def no_referrer(response):
    """Pages reached by a link with a token: the token is not sent on to other sites, nor kept in caches."""
    if request.blueprint in ("account", "join", "requests"):
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = AddressForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("account/forgot.html", form=form), 200 if request.method == "GET" else 400
    found = request_reset(db(), form.email.data, settings().password_link_hours)
    if found is None:
        decoy("password_reset")
    else:
        user, issued = found
        compose(db(), "password_reset", to=user.email, lang=recipient_language(user, current_language()),
                kind="password_reset", user=user, hours=settings().password_link_hours,
                link=external_url("account.reset_password", token=issued.token))
    db().commit()
    return neutral(_("If an account exists for that address, we sent a link to set a new password. "
                     "Check your e-mail."))


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        reset_link(db(), token)
    except LinkError:
        return link_refused()
    form = NewPasswordForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            set_password(db(), token, form.password.data)
        except LinkError:
            db().rollback()
            return link_refused()
        except AccountError as exc:
            db().rollback()
            form.password.errors = [str(exc)]
        else:
            db().commit()
            flash(_("Your password is changed. Sign in with it."), "info")
            return redirect(url_for("auth.sign_in"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/new_password.html", form=form), status


@bp.get("/account")
@signed_in
def page():
    return _page()


def _page(password_form: ChangePasswordForm | None = None, email_form: ChangeEmailForm | None = None,
          status: int = 200):
    return render_template("account/page.html", password_form=password_form or ChangePasswordForm(formdata=None),
                           email_form=email_form or ChangeEmailForm(formdata=None)), status


@bp.post("/account/password")
@signed_in
def change_password():
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return _page(password_form=form, status=400)
    user = current_user()
    try:
        set_own_password(db(), user, form.current.data, form.password.data)
    except AccountError:
        db().rollback()
        form.current.errors = [_("Current password: it is not right.")]
        return _page(password_form=form, status=401)  # counted against rate_limit_account_links
    db().commit()
    start_session(user)  # every other session has ended; this browser stays signed in under the new generation
    flash(_("Your password is changed. You are signed out everywhere else."), "info")
    return redirect(url_for("account.page"))


@bp.post("/account/email")
@signed_in
def change_email():
    form = ChangeEmailForm()
    if not form.validate_on_submit():
        return _page(email_form=form, status=400)
    user = current_user()
    try:
        change = request_email_change(db(), user, form.email.data, form.current.data, settings().account_link_hours)
    except AccountError as exc:
        db().rollback()
        if "password" in str(exc):
            form.current.errors = [_("Current password: it is not right.")]
            return _page(email_form=form, status=401)
        form.email.errors = [_("New e-mail: that is already your address.")]
        return _page(email_form=form, status=400)
    lang = recipient_language(user, current_language())
    if change.issued is None:
        decoy("email_confirm")
    else:
        compose(db(), "email_confirm", to=change.new_email, lang=lang, kind="email_confirm", user=user,
                hours=settings().account_link_hours,
                link=external_url("account.confirm_email", token=change.issued.token))
    compose(db(), "email_notice", to=change.old_email, lang=lang, kind="email_notice", user=user,
            new_email=change.new_email)
    db().commit()
    return neutral(_("If the new address can be used, we sent a link to it: your address changes once it is "
                     "followed. Your current address was told too."))


@bp.route("/account/email/<token>", methods=["GET", "POST"])
@signed_in
def confirm_email(token: str):
    form = ActionForm()
    if request.method == "GET":
        return render_template("account/confirm.html", form=form,
                               title=_("Confirm your new e-mail address"),
                               action=url_for("account.confirm_email", token=token))
    if not form.validate_on_submit():
        return link_refused()
    try:
        confirm_email_change(db(), current_user(), token)
    except LinkError:
        db().rollback()
        return link_refused()
    db().commit()
    flash(_("Your e-mail address is changed."), "info")
    return redirect(url_for("account.page"))
