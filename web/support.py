"""Contact support: describe the problem, see suggestions (deflection), file a ticket, follow it."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from kb.helpdesk.accounts import can_see_ticket
from kb.helpdesk.analytics import EFFORT, is_token
from kb.helpdesk.models import RESOLVED, AnalyticsEvent, Deflection, Ticket
from kb.helpdesk.tickets import ACTIVE, add_reply, file_once, find_ticket, tickets_for, tracker
from web.analytics import analytics_visitor, events, record_ticket_filed
from web.context import current_user, db, sign_in_required, visitor
from web.forms import DescribeForm, EffortForm, ReplyForm, SolvedForm, TicketForm, new_form_key
from web.i18n import STATUS_LABELS
from web.notifications import customer_replied
from web.suggestions import file_ticket, problem_text, suggest

bp = Blueprint("support", __name__)


def _category_choices() -> list[tuple[str, str]]:
    categories = current_app.extensions["kb.search"].categories
    return [("", _("Not sure"))] + [(cid, c.get("title", cid)) for cid, c in categories.items()]


def _ticket_form(**data) -> TicketForm:
    """The ticket form: shown fresh (`formdata=None`, prefilled from `data`) with a new one-time key, or as
    submitted."""
    form = TicketForm(**data, idempotency_key=new_form_key()) if data else TicketForm()
    form.category.choices = _category_choices()
    return form


@bp.route("/contact", methods=["GET", "POST"])
@sign_in_required
def contact():
    """Step 1. Without JavaScript, 'Find answers' shows the suggestions on this page, server-rendered."""
    form = DescribeForm()
    if request.method == "GET":
        form.description.data = request.args.get("q", "")[:2000]
        return render_template("contact.html", form=form, suggestions=None)
    if not form.validate_on_submit():
        return render_template("contact.html", form=form, suggestions=None), 400
    found = suggest(problem_text(form.subject.data, form.description.data))
    if request.form.get("step") == "ticket":  # "I still need help": the ticket form, prefilled
        ticket = _ticket_form(formdata=None, subject=form.subject.data, description=form.description.data,
                              category=found.category or "", searched=found.query)
        return render_template("ticket_new.html", form=ticket, suggestions=found)
    return render_template("contact.html", form=form, suggestions=found)


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
@sign_in_required
def new_ticket():
    if request.method == "GET":
        form = _ticket_form(formdata=None, subject=request.args.get("subject", "")[:200],
                            description=request.args.get("description", "")[:20000],
                            category=request.args.get("category", ""))
        return render_template("ticket_new.html", form=form, suggestions=None)
    form = _ticket_form()
    if not form.validate_on_submit():
        return render_template("ticket_new.html", form=form, suggestions=None), 400
    user, key = current_user(), form.idempotency_key.data or None
    # The same form submitted again (a double click, a browser retry) shows the ticket it filed the first time.
    ticket, created = file_once(db(), user, key, lambda: file_ticket(
        user, form.subject.data, form.description.data, form.category.data, form.searched.data or "",
        idempotency_key=key))
    if created:
        record_ticket_filed(ticket)
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


@bp.get("/tickets/<ref>")
@sign_in_required
def ticket(ref: str):
    found = _visible_ticket(ref)
    return render_template("ticket.html", ticket=found, steps=tracker(found), form=ReplyForm(),
                           labels=STATUS_LABELS, effort=_effort_form(found))


@bp.post("/tickets/<ref>/reply")
@sign_in_required
def reply(ref: str):
    found = _visible_ticket(ref)
    form = ReplyForm()
    if not form.validate_on_submit():
        return render_template("ticket.html", ticket=found, steps=tracker(found), form=form,
                               labels=STATUS_LABELS, effort=_effort_form(found)), 400
    event = add_reply(db(), found, current_user(), form.body.data)
    customer_replied(db(), found, event)
    db().commit()
    flash(_("Your reply is added."), "info")
    return redirect(url_for("support.ticket", ref=found.ref, _anchor="history"))
