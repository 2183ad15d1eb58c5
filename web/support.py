"""Contact support: describe the problem, see suggestions (deflection), file a ticket, follow it."""
from __future__ import annotations

import functools

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from kb.helpdesk.accounts import can_see_ticket
from kb.helpdesk.analytics import EFFORT, is_token
from kb.helpdesk.attachments import attachments_by_event
from kb.helpdesk.models import RESOLVED, AnalyticsEvent, Deflection, Ticket
from kb.helpdesk.notice_models import Notice
from kb.helpdesk.notices import active_notices, attach, may_attach, ticket_notices
from kb.helpdesk.tickets import ACTIVE, add_reply, file_once, find_ticket, tickets_for, tracker
from web.account_forms import AnonymousTicketForm
from web.analytics import analytics_visitor, events, record_ticket_filed
from web.context import current_user, db, sign_in_required, visitor
from web.forms import DescribeForm, EffortForm, ReplyForm, SolvedForm, TicketForm, new_form_key
from web.i18n import STATUS_LABELS
from web.notices import matching
from web.notifications import customer_replied
from web.suggestions import file_ticket, problem_text, suggest
from web.uploads import checked_files, store_files
from web.support_requests import held_request

bp = Blueprint("support", __name__)


def _category_choices() -> list[tuple[str, str]]:
    categories = current_app.extensions["kb.search"].categories
    return [("", _("Not sure"))] + [(cid, c.get("title", cid)) for cid, c in categories.items()]


def _ticket_form(**data) -> TicketForm:
    """The ticket form: shown fresh (`formdata=None`, prefilled from `data`) with a new one-time key, or as
    submitted; for a visitor who is not signed in, with their address too."""
    kind = TicketForm if current_user() is not None else AnonymousTicketForm
    form = kind(**data, idempotency_key=new_form_key()) if data else kind()
    form.category.choices = _category_choices()
    return form


def anonymous_requests() -> bool:
    return current_app.config["KB_SETTINGS"].anonymous_requests == "on"


def customer_or_visitor(view):
    """A customer's page that visitors who are not signed in may use too when `anonymous_requests` is on."""
    guarded = sign_in_required(view)

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None and anonymous_requests():
            return view(*args, **kwargs)
        return guarded(*args, **kwargs)
    return wrapper


@bp.route("/contact", methods=["GET", "POST"])
@customer_or_visitor
def contact():
    """Step 1. Without JavaScript, 'Find answers' shows the suggestions on this page, server-rendered."""
    form = DescribeForm()
    if request.method == "GET":
        form.description.data = request.args.get("q", "")[:2000]
        return render_template("contact.html", form=form, suggestions=None)
    if not form.validate_on_submit():
        return render_template("contact.html", form=form, suggestions=None), 400
    found = suggest(problem_text(form.subject.data, form.description.data), session=form.session.data or "")
    if request.form.get("step") == "ticket":  # "I still need help": the ticket form, prefilled
        ticket = _ticket_form(formdata=None, subject=form.subject.data, description=form.description.data,
                              category=found.category or "", searched=found.query, session=found.session)
        return render_template("ticket_new.html", form=ticket, suggestions=found,
                               notices=_offered(ticket, found.category or ""))
    form.session.data = found.session  # a next "Find answers" replaces this search
    return render_template("contact.html", form=form, suggestions=found)


def _ticked(form: TicketForm) -> set[int]:
    return {int(v) for v in form.notices.data or [] if isinstance(v, str) and v.isdigit() and len(v) < 12}


def _offered(form: TicketForm, *categories: str) -> list[Notice]:
    """The known issues the ticket form offers to attach the new ticket to: those active for the predicted or
    chosen category (or for everyone), and any the customer ticked."""
    ticked = _ticked(form)
    wanted = {"", *categories, form.category.data or ""}
    return [n for n in active_notices(db()) if n.category in wanted or n.id in ticked]


@bp.post("/contact/solved")
def solved():
    """'This solved my problem': a deflection is recorded, no ticket is filed."""
    form = SolvedForm()
    articles = current_app.extensions["kb.search"].visible_articles("public")
    if not form.validate_on_submit() or form.article_id.data not in articles:
        abort(400, _("That article cannot be recorded as the answer."))
    user = current_user()
    token = form.search.data if is_token(form.search.data or "") else ""
    db().add(Deflection(article_id=form.article_id.data, query=form.query.data or "", visitor=visitor(),
                        user_id=user.id if user else None, search_token=token))
    db().commit()
    return render_template("solved.html", article=articles[form.article_id.data],
                           effort=EffortForm(formdata=None, article_id=form.article_id.data) if events() else None)


@bp.route("/tickets/new", methods=["GET", "POST"])
@customer_or_visitor
def new_ticket():
    if current_user() is None:
        return held_request(_ticket_form)
    if request.method == "GET":
        form = _ticket_form(formdata=None, subject=request.args.get("subject", "")[:200],
                            description=request.args.get("description", "")[:20000],
                            category=request.args.get("category", ""))
        return render_template("ticket_new.html", form=form, suggestions=None, notices=_offered(form))
    form = _ticket_form()
    valid = form.validate_on_submit()
    files = checked_files(form.attachments)  # a refused file is named on the form, with the text kept
    if not valid or files is None:
        return render_template("ticket_new.html", form=form, suggestions=None, notices=_offered(form)), 400
    user, key = current_user(), form.idempotency_key.data or None

    def create() -> Ticket:
        filed = file_ticket(user, form.subject.data, form.description.data, form.category.data,
                            form.searched.data or "", idempotency_key=key, session=form.session.data or "")
        store_files(filed, filed.events[0], files, user)
        return filed

    # The same form submitted again (a double click, a browser retry) shows the ticket it filed the first time.
    ticket, created = file_once(db(), user, key, create)
    if created:
        record_ticket_filed(ticket)
    ticked = _ticked(form)
    for notice in (n for n in active_notices(db()) if n.id in ticked):  # one that ended meanwhile is skipped
        attach(db(), notice, ticket, user)
    db().commit()
    flash(_("Ticket %(ref)s is submitted. We will reply here and by e-mail.", ref=ticket.ref), "info")
    return redirect(url_for("support.ticket", ref=ticket.ref))


@bp.get("/tickets")
@sign_in_required
def tickets():
    mine = tickets_for(db(), current_user())
    return render_template("tickets.html", active=[t for t in mine if t.status in ACTIVE],
                           past=[t for t in mine if t.status not in ACTIVE], labels=STATUS_LABELS)


def effort_answered(ticket: Ticket) -> bool:
    return db().scalar(select(AnalyticsEvent.id).where(AnalyticsEvent.kind == EFFORT,
                                                       AnalyticsEvent.ticket_ref == ticket.ref).limit(1)) is not None


def _effort_form(ticket: Ticket) -> EffortForm | None:
    """The effort question under a resolved ticket, for its customer, until answered."""
    if events() is None or ticket.status != RESOLVED or effort_answered(ticket):
        return None
    return EffortForm(formdata=None, ticket=ticket.ref)


@bp.post("/effort")
def effort():
    """The answer to "How easy was it to solve your problem?" (1-7), about an article that solved it or a resolved
    ticket (its customer only, once). Written at once, not buffered: the ticket page hides the question after."""
    form = EffortForm()
    articles = current_app.extensions["kb.search"].visible_articles("public")
    ticket = None
    if form.ticket.data:
        user = current_user()
        ticket = find_ticket(db(), form.ticket.data) if user is not None else None
        if ticket is None or not can_see_ticket(user, ticket) or user.is_staff:
            abort(404)
    elif form.article_id.data not in articles:
        abort(400, _("That article cannot be recorded as the answer."))
    if not form.validate_on_submit() or events() is None:
        flash(_("Choose a number from 1 to 7."), "error")
    elif ticket is not None and effort_answered(ticket):
        flash(_("Thank you for your feedback."), "info")
    else:
        db().add(AnalyticsEvent(kind=EFFORT, visitor=analytics_visitor(), value=int(form.score.data),
                                article_id="" if ticket else form.article_id.data,
                                ticket_ref=ticket.ref if ticket else ""))
        db().commit()
        flash(_("Thank you for your feedback."), "info")
    if ticket is not None:
        return redirect(url_for("support.ticket", ref=ticket.ref))
    return redirect(url_for("portal.article", article_id=form.article_id.data))


def _visible_ticket(ref: str):
    ticket = find_ticket(db(), ref) if len(ref) <= 16 else None
    if ticket is None or not can_see_ticket(current_user(), ticket):
        abort(404)  # someone else's ticket does not exist, as far as this user can tell
    return ticket


def _ticket_page(ticket: Ticket, form: ReplyForm) -> str:
    return render_template("ticket.html", ticket=ticket, steps=tracker(ticket), form=form, labels=STATUS_LABELS,
                           effort=_effort_form(ticket), files=attachments_by_event(db(), ticket),
                           **_notices_of(ticket))


@bp.get("/tickets/<ref>")
@sign_in_required
def ticket(ref: str):
    found = _visible_ticket(ref)
    return _ticket_page(found, ReplyForm())


def _notices_of(ticket: Ticket) -> dict:
    """The ticket page's known issues: those the ticket is attached to, and the active ones for its category that
    its customer may attach it to."""
    attached = ticket_notices(db(), ticket)
    ids = {n.id for n in attached}
    may = may_attach(current_user(), ticket)
    offered = [n for n in matching([ticket.category, ticket.predicted_category]) if n.id not in ids] if may else []
    return {"attached_notices": attached, "offered_notices": offered, "may_attach": may}


@bp.post("/tickets/<ref>/reply")
@sign_in_required
def reply(ref: str):
    found = _visible_ticket(ref)
    form = ReplyForm()
    valid = form.validate_on_submit()
    files = checked_files(form.attachments)
    if not valid or files is None:
        return _ticket_page(found, form), 400
    user = current_user()
    event = add_reply(db(), found, user, form.body.data)
    store_files(found, event, files, user)
    customer_replied(db(), found, event)
    db().commit()
    flash(_("Your reply is added."), "info")
    return redirect(url_for("support.ticket", ref=found.ref, _anchor="history"))
