"""Known-issue notices. On the desk (agents and admins): list, post, edit and resolve them, each with its attached
tickets; resolving one e-mails every attached customer in their language. On the portal: the notices active now
for a category, and a customer attaching their own ticket to one (or taking it off again).

To customers and editors the desk's pages do not exist (404); anonymous visitors are sent to sign in, as
everywhere on the desk.
"""
from __future__ import annotations

from typing import Any, Iterable

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.errors import NoticeError
from kb.helpdesk.accounts import can_see_ticket
from kb.helpdesk.models import Ticket, User, utcnow
from kb.helpdesk.notice_models import Notice
from kb.helpdesk.notification_prefs import KNOWN_ISSUE_RESOLVED
from kb.helpdesk.notices import (active_notices, all_notices, attach, create_notice, detach, find_notice,
                                 may_attach, resolve_notice, ticket_notices, update_notice)
from kb.helpdesk.tickets import find_ticket
from web.context import agents_only, current_user, db, sign_in_required
from web.desk_access import may_see
from web.forms import ActionForm, NoticeForm, NoticeResolveForm
from web.mail import external_url, recipient_language
from web.notifications import notify

bp = Blueprint("notices", __name__, url_prefix="/desk/notices")
portal_bp = Blueprint("ticket_notices", __name__)
NOTICE_ID_MAX = 10 ** 12  # larger path ids are no notice (and no database integer overflow)


bp.before_request(agents_only)


def _categories() -> dict[str, Any]:
    return current_app.extensions["kb.search"].categories


def category_title(category: str) -> str:
    return _categories().get(category, {}).get("title", category) if category else _("Everyone")


def _form(**data) -> NoticeForm:
    form = NoticeForm(**data)
    form.category.choices = [("", _("Everyone"))] + [(cid, c.get("title", cid)) for cid, c in _categories().items()]
    return form


def _notice(notice_id: int) -> Notice:
    found = find_notice(db(), notice_id) if notice_id < NOTICE_ID_MAX else None
    if found is None:
        abort(404)
    return found


def _render_list(form: NoticeForm | None = None, status: int = 200):
    return render_template("desk/notices.html", notices=all_notices(db()), form=form or _form(formdata=None),
                           category_title=category_title, now=utcnow()), status


@bp.get("/")
def index():
    return _render_list()


@bp.post("/")
def create():
    form = _form()
    if not form.validate_on_submit():
        return _render_list(form, 400)
    try:
        notice = create_notice(db(), current_user(), form.title.data, form.body.data or "", form.category.data or "",
                               form.starts_at.data, form.ends_at.data)
    except NoticeError as exc:
        db().rollback()
        form.title.errors = [str(exc)]
        return _render_list(form, 400)
    db().commit()
    flash(_("Notice posted: %(title)s", title=notice.title), "info")
    return redirect(url_for("notices.edit", notice_id=notice.id))


def _render_notice(notice: Notice, form: NoticeForm | None = None, resolve_form: NoticeResolveForm | None = None,
                   status: int = 200):
    form = form or _form(formdata=None, title=notice.title, body=notice.body, category=notice.category,
                         starts_at=notice.starts_at, ends_at=notice.ends_at)
    links = [link for link in notice.links if may_see(link.ticket)]  # other groups' tickets stay hidden
    return render_template("desk/notice.html", notice=notice, form=form, category_title=category_title,
                           links=links, hidden_links=len(notice.links) - len(links), resolve_form=resolve_form or NoticeResolveForm(formdata=None), now=utcnow()), status


@bp.route("/<int:notice_id>", methods=["GET", "POST"])
def edit(notice_id: int):
    notice = _notice(notice_id)
    if request.method == "GET":
        return _render_notice(notice)
    form = _form()
    if not form.validate_on_submit():
        return _render_notice(notice, form, status=400)
    try:
        update_notice(db(), notice, form.title.data, form.body.data or "", form.category.data or "",
                      form.starts_at.data, form.ends_at.data)
    except NoticeError as exc:
        db().rollback()
        form.title.errors = [str(exc)]
        return _render_notice(notice, form, status=400)
    db().commit()
    flash(_("Notice saved."), "info")
    return redirect(url_for("notices.edit", notice_id=notice.id))


@bp.post("/<int:notice_id>/resolve")
def resolve(notice_id: int):
    """Resolve: a line in each attached ticket's history and one e-mail per attached customer, in one commit."""
    notice = _notice(notice_id)
    form = NoticeResolveForm()
    if not form.validate_on_submit():
        return _render_notice(notice, resolve_form=form, status=400)
    try:
        tickets = resolve_notice(db(), notice, current_user(), form.resolution.data or "")
    except NoticeError:
        db().rollback()
        flash(_("This notice was already resolved; nobody was told twice."), "error")
        return redirect(url_for("notices.edit", notice_id=notice_id))
    told = notify_resolved(notice, tickets)
    db().commit()
    flash(_("Notice resolved; %(count)d customer(s) will be told by e-mail.", count=told), "info")
    return redirect(url_for("notices.edit", notice_id=notice.id))


@bp.post("/<int:notice_id>/tickets")
def desk_attach(notice_id: int):
    """An agent attaches a ticket (by reference) to an active notice; from the ticket's page or the notice's."""
    notice = _notice(notice_id)
    ref = (request.form.get("ref") or "").strip()[:32]
    back_to_ticket = request.form.get("back") == "ticket"
    ticket = find_ticket(db(), ref) if ref and len(ref) <= 16 else None
    if ticket is not None and not may_see(ticket):
        ticket = None  # a ticket this agent may not see is one that does not exist
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
    if ticket is None:
        flash(_("Ticket reference: there is no ticket %(ref)s.", ref=ref), "error")
    else:
        try:
            attach(db(), notice, ticket, current_user())
        except NoticeError:
            db().rollback()
            flash(_("Only an active notice takes tickets."), "error")
        else:
            db().commit()
            flash(_("%(ref)s is attached to the notice.", ref=ticket.ref), "info")
    if back_to_ticket and ticket is not None:
        return redirect(url_for("desk.ticket", ref=ticket.ref, _anchor="known-issues"))
    return redirect(url_for("notices.edit", notice_id=notice.id, _anchor="attached"))


def desk_ticket_notices(ticket: Ticket) -> dict[str, list[Notice]]:
    """For the desk's ticket page: the notices the ticket is attached to, and the active ones for its category
    (or for everyone) it could be attached to."""
    attached = ticket_notices(db(), ticket)
    ids = {n.id for n in attached}
    return {"notices": attached, "open_notices": [n for n in matching([ticket.category, ticket.predicted_category])
                                                  if n.id not in ids]}


@bp.post("/<int:notice_id>/tickets/<ref>/detach")
def desk_detach(notice_id: int, ref: str):
    notice = _notice(notice_id)
    ticket = find_ticket(db(), ref) if len(ref) <= 16 else None
    if ticket is not None and not may_see(ticket):
        ticket = None
    if ticket is None or not ActionForm().validate_on_submit():
        abort(404 if ticket is None else 400)
    detach(db(), notice, ticket)
    db().commit()
    return redirect(url_for("notices.edit", notice_id=notice.id))


def notify_resolved(notice: Notice, tickets: list[Ticket]) -> int:
    """One message per customer with tickets on `notice` (naming all of theirs), in their language, unless they
    turned these off (web/notifications.py); returns how many. Added to the request's transaction: written with
    the resolution or not at all."""
    by_customer: dict[int, tuple[User, list[Ticket]]] = {}
    for ticket in tickets:
        by_customer.setdefault(ticket.customer_id, (ticket.customer, []))[1].append(ticket)
    told = 0
    for customer, theirs in by_customer.values():
        if not customer.active:
            continue
        links = [(t, external_url("support.ticket", ref=t.ref)) for t in theirs]
        lang = recipient_language(customer)
        if notify(db(), customer, KNOWN_ISSUE_RESOLVED, theirs[0], notice=notice, links=links, mail_lang=lang):
            told += 1
    return told


# --- the portal ------------------------------------------------------------------------------------------------

def matching(categories: Iterable[str] | None) -> list[Notice]:
    """The notices active now for one of `categories` or for everyone (all active ones with None)."""
    return active_notices(db(), categories)


def notice_dict(notice: Any) -> dict[str, Any]:
    """A notice (a Notice, or a web/notice_snapshot.py NoticeRecord) as the suggestions' JSON carries it."""
    return {"id": notice.id, "title": notice.title, "body": notice.body, "category": notice.category or None,
            "category_title": category_title(notice.category) if notice.category else "",
            "starts_at": notice.starts_at.isoformat(timespec="seconds") + "Z",
            "ends_at": notice.ends_at.isoformat(timespec="seconds") + "Z" if notice.ends_at else None}


def _own_ticket(ref: str) -> Ticket:
    """The customer's own ticket: 404 when they cannot see it, 403 when it is a colleague's (a manager's view)."""
    user = current_user()
    ticket = find_ticket(db(), ref) if len(ref) <= 16 else None
    if ticket is None or not can_see_ticket(user, ticket):
        abort(404)
    if not may_attach(user, ticket):
        abort(403)
    return ticket


def _portal_notice(notice_id: int) -> Notice:
    found = find_notice(db(), notice_id) if notice_id < NOTICE_ID_MAX else None
    if found is None:
        abort(404)
    return found


@portal_bp.post("/tickets/<ref>/notices/<int:notice_id>")
@sign_in_required
def attach_ticket(ref: str, notice_id: int):
    """'This is my problem too': the customer's ticket goes on the notice; they hear when it is resolved."""
    ticket, notice = _own_ticket(ref), _portal_notice(notice_id)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
    try:
        attach(db(), notice, ticket, current_user())
    except NoticeError:
        db().rollback()
        flash(_("This known issue is over; your ticket stays with support."), "error")
    else:
        db().commit()
        flash(_("We will tell you by e-mail when this known issue is resolved."), "info")
    return redirect(url_for("support.ticket", ref=ticket.ref))


@portal_bp.post("/tickets/<ref>/notices/<int:notice_id>/detach")
@sign_in_required
def detach_ticket(ref: str, notice_id: int):
    ticket, notice = _own_ticket(ref), _portal_notice(notice_id)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
    if detach(db(), notice, ticket):
        db().commit()
        flash(_("Your ticket is no longer attached to this known issue."), "info")
    return redirect(url_for("support.ticket", ref=ticket.ref))
