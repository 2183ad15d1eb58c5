"""Joining an organisation: a manager's invitations (a page in the customer's account area) and sign-up from an
organisation's e-mail domain. The account exists only once the mailed link is followed; the answer to a sign-up
request is the same page whatever the address (an account there already, a domain closed to sign-up)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.errors import AccountError, LinkError, NotAllowedError
from kb.helpdesk.account_links import pending_invitations
from kb.helpdesk.account_models import INVITE, SIGNUP
from kb.helpdesk.invitations import create_account, invite, open_link, request_signup, withdraw as withdraw_link
from kb.helpdesk.models import MANAGER
from web.account import decoy, link_refused, neutral
from web.account_forms import AddressForm, NewAccountForm
from web.context import current_user, db, sign_in as start_session, sign_in_required
from web.forms import ActionForm
from web.i18n import current_language
from web.mail import compose, external_url, recipient_language, settings
from web.notifications import remember_language

bp = Blueprint("join", __name__)


def _manager():
    """The signed-in manager; for anyone else the invitations page does not exist."""
    user = current_user()
    if user is None or user.role != MANAGER or user.organisation_id is None:
        abort(404)
    return user


def _invitations(form: AddressForm | None = None, status: int = 200):
    manager = _manager()
    return render_template("account/invitations.html", form=form or AddressForm(formdata=None),
                           pending=pending_invitations(db(), manager.organisation_id), withdraw=ActionForm(),
                           days=settings().invitation_days), status


@bp.get("/account/invitations")
@sign_in_required
def invitations():
    return _invitations()


@bp.post("/account/invitations")
@sign_in_required
def send_invitation():
    manager = _manager()
    form = AddressForm()
    if not form.validate_on_submit():
        return _invitations(form, 400)
    try:
        issued, existing = invite(db(), manager, form.email.data, settings().invitation_days)
    except NotAllowedError:
        abort(404)
    lang = recipient_language(existing, current_language())
    if existing is not None:  # the same row in the list; the mail only points to signing in
        compose(db(), "invitation_existing", to=issued.link.email, lang=lang, kind="invitation", user=existing,
                inviter=manager, organisation=manager.organisation.name, link=external_url("auth.sign_in"))
    else:
        compose(db(), "invitation", to=issued.link.email, lang=lang, kind="invitation", inviter=manager,
                organisation=manager.organisation.name, days=settings().invitation_days,
                link=external_url("join.accept_invitation", token=issued.token))
    db().commit()
    flash(_("The invitation is sent."), "info")  # no address: flashed messages travel in the cookie
    return redirect(url_for("join.invitations"))


@bp.post("/account/invitations/<int:link_id>/withdraw")
@sign_in_required
def withdraw(link_id: int):
    manager = _manager()
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        withdraw_link(db(), manager, link_id)
    except (NotAllowedError, LinkError):
        db().rollback()
        abort(404)  # another organisation's invitation does not exist, as far as this manager can tell
    db().commit()
    flash(_("The invitation is withdrawn; its link no longer works."), "info")
    return redirect(url_for("join.invitations"))


def _new_account(kind: str, token: str, title: str):
    """The page of an invitation's or sign-up link: name and password make the account, signed in at once."""
    try:
        link = open_link(db(), kind, token)
    except LinkError:
        return link_refused()
    form = NewAccountForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            user = create_account(db(), kind, token, form.name.data, form.password.data)
        except LinkError:
            db().rollback()
            return link_refused()
        except AccountError as exc:
            db().rollback()
            form.password.errors = [str(exc)]
        else:
            remember_language(user)  # signed in from here on: their e-mail is written in the language they use
            db().commit()
            start_session(user)
            flash(_("Welcome! Your account is ready and you are signed in."), "info")
            return redirect(url_for("portal.home"))
    status = 400 if request.method == "POST" else 200
    return render_template("account/new_account.html", form=form, title=title, email=link.email,
                           organisation=link.organisation.name), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    return _new_account(INVITE, token, _("Accept the invitation"))


@bp.route("/sign-up", methods=["GET", "POST"])
def sign_up():
    form = AddressForm()
    if request.method == "GET" or not form.validate_on_submit():
        return render_template("account/sign_up.html", form=form), 200 if request.method == "GET" else 400
    hours = settings().account_link_hours
    issued, existing = request_signup(db(), form.email.data, hours)
    lang = recipient_language(existing, current_language())
    if issued is not None:
        compose(db(), "signup", to=issued.link.email, lang=lang, kind="signup", hours=hours,
                organisation=issued.link.organisation.name,
                link=external_url("join.complete_signup", token=issued.token))
    elif existing is not None:
        compose(db(), "signup_existing", to=existing.email, lang=lang, kind="signup", user=existing,
                link=external_url("account.forgot_password"))
    else:
        decoy("signup")
    db().commit()
    return neutral(_("If your organisation lets people with this address sign up, we sent a link to it. "
                     "Check your e-mail."))


@bp.route("/sign-up/<token>", methods=["GET", "POST"])
def complete_signup(token: str):
    return _new_account(SIGNUP, token, _("Create your account"))
