"""Which e-mail notifications a user gets (`/account/notifications`), and the signed
one-click unsubscribe link every notification carries, which works without signing in (RFC 8058: a POST)."""
from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l

from kb.helpdesk.models import User
from kb.helpdesk.notification_prefs import (AGENT_REPLY, AUTO_CLOSED, CUSTOMER_REPLY, KNOWN_ISSUE_RESOLVED, NEW_TICKET,
                                            RESOLVED_NOTICE, STATUS_CHANGE, TICKET_RECEIVED, WAITING_REMINDER,
                                            kinds_for, mute, muted_kinds, set_muted)
from web.context import current_user, db
from web.forms import ActionForm
from web.notifications import read_unsubscribe_token

bp = Blueprint("preferences", __name__)

KIND_LABELS = {
    TICKET_RECEIVED: _l("My request is received"),
    AGENT_REPLY: _l("An agent replies to my request"),
    STATUS_CHANGE: _l("The status of my request changes"),
    WAITING_REMINDER: _l("A reminder while my request waits for my answer"),
    RESOLVED_NOTICE: _l("My request is resolved"),
    AUTO_CLOSED: _l("My request is closed after no answer"),
    KNOWN_ISSUE_RESOLVED: _l("A known issue my request is attached to is resolved"),
    NEW_TICKET: _l("A new ticket arrives in my group"),
    CUSTOMER_REPLY: _l("A customer replies on a ticket of my group"),
}


@bp.route("/account/notifications", methods=["GET", "POST"])
def notifications():
    """Tick the kinds of e-mail to get; every user has the page, with the kinds their role receives."""
    user = current_user()
    if user is None:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    kinds = kinds_for(user)
    form = ActionForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
        chosen = set(request.form.getlist("kinds"))
        set_muted(db(), user, [kind for kind in kinds if kind not in chosen])
        db().commit()
        flash(_("Your e-mail choices are saved."), "info")
        return redirect(url_for("preferences.notifications"))
    muted = muted_kinds(db(), user)
    return render_template("account_notifications.html", form=form, kinds=kinds, muted=muted, labels=KIND_LABELS)


def _recipient(token: str) -> tuple[User, str]:
    found = read_unsubscribe_token(token) if len(token) <= 200 else None
    user = db().get(User, found[0]) if found else None
    if user is None:
        abort(400, _("This unsubscribe link is not valid."))
    return user, found[1]


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    """GET asks (a link checker opening the link changes nothing); POST, from the page's button or a mail
    program's one-click `List-Unsubscribe=One-Click`, turns the kind off."""
    user, kind = _recipient(token)
    done = request.method == "POST"
    if done:
        mute(db(), user, kind)
        db().commit()
    return render_template("unsubscribe.html", token=token, label=KIND_LABELS[kind], done=done)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.extensions["kb.csrf"].exempt(unsubscribe)  # a mail program's one-click POST carries no form token
