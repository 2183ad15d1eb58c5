"""Tickets from visitors who are not signed in (`anonymous_requests = on`): the form asks for an address, the
request waits (kb/helpdesk/anonymous_requests.py) until the link mailed there is followed, and only then is the
ticket filed and in the desk's queue. The answer to the form is the same page whatever the address."""
from __future__ import annotations

from typing import Callable

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from kb.errors import LinkError, TicketError
from kb.helpdesk.anonymous_requests import HeldRequest, hold, release
from web.account import link_refused, neutral
from web.analytics import record_ticket_filed
from web.context import db
from web.forms import ActionForm
from web.i18n import current_language
from web.mail import compose, external_url, settings
from web.suggestions import file_ticket

bp = Blueprint("requests", __name__)


def held_request(ticket_form: Callable):
    """The ticket form for a visitor: shown (GET), or its request held and the confirmation link mailed."""
    if request.method == "GET":
        form = ticket_form(formdata=None, subject=request.args.get("subject", "")[:200],
                           description=request.args.get("description", "")[:20000],
                           category=request.args.get("category", ""))
        return render_template("ticket_new.html", form=form, suggestions=None)
    form = ticket_form()
    if not form.validate_on_submit():
        return render_template("ticket_new.html", form=form, suggestions=None), 400
    hours = settings().account_link_hours
    lang = current_language()
    try:
        issued = hold(db(), form.email.data, HeldRequest(form.subject.data, form.description.data,
                                                         form.category.data or "", form.searched.data or ""),
                      hours, lang)
    except TicketError as exc:
        db().rollback()
        form.description.errors = [str(exc)]
        return render_template("ticket_new.html", form=form, suggestions=None), 400
    compose(db(), "request_confirm", to=issued.link.email, lang=lang, kind="request_confirm", hours=hours,
            subject=form.subject.data, link=external_url("requests.confirm_request", token=issued.token))
    db().commit()
    return neutral(_("Almost done: we sent a link to your e-mail address. Your request reaches our support team "
                     "once you follow it."))


@bp.route("/requests/<token>", methods=["GET", "POST"])
def confirm_request(token: str):
    """The mailed link: a button (so that a mail scanner fetching the link files nothing), then the ticket."""
    form = ActionForm()
    if request.method == "GET":
        return render_template("account/confirm.html", form=form, title=_("Send your request to support"),
                               action=request.path)
    if not form.validate_on_submit():
        return link_refused()
    try:
        user, held = release(db(), token)
        ticket = file_ticket(user, held.subject, held.description, held.category, held.searched)
    except (LinkError, TicketError):
        db().rollback()
        return link_refused()
    db().commit()
    record_ticket_filed(ticket)
    return render_template("account/request_filed.html", ref=ticket.ref, active=user.active)
