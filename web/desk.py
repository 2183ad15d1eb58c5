"""The agent desk: the queue, a ticket with the customer's history and suggested articles, the reply composer.

Every route is for staff (agents and admins): anonymous visitors are sent to sign in, and to a customer the desk
does not exist (404).
"""
from __future__ import annotations

import re
from urllib.parse import parse_qsl

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from markupsafe import Markup
from sqlalchemy import select

from kb.drafts import draft_from_ticket
from kb.errors import KbError, TicketError
from kb.helpdesk.accounts import organisations
from kb.helpdesk.attachments import attachments_by_event
from kb.helpdesk.bulk import MAX_TICKETS, bulk_assign, bulk_status, tickets_by_ref
from kb.helpdesk.macro_models import Macro
from kb.helpdesk.macros import fill, find_macro, placeholder_values, usable_macros
from kb.helpdesk.notes import add_note, staff_history
from kb.helpdesk.queue import AGES, SLA_FILTERS, QueueFilter, parse_filter, queue as queue_page
from kb.helpdesk.sla import PRIORITIES
from kb.helpdesk.ticket_sla import change_priority, ticket_clocks
from kb.helpdesk.models import AGENT, STATUSES, Ticket
from kb.helpdesk.replies import clean_reply
from kb.helpdesk.tickets import (add_reply, change_category, change_status, earlier_tickets, linked_articles,
                        next_statuses, record_links)
from kb.index.records import IndexedArticle
from web.article_html import article_html
from web.context import agents_only, current_user, db, route_group
from web.clocks import clock_text, reasons_text, sla_rules
from web.desk_access import may_see, visible_conditions, visible_ticket
from web.desk_forms import NoteForm
from web.desk_owners import assign_form, bulk_form, chosen_owner, replied_meanwhile
from web.forms import ActionForm, BulkForm, CategoryForm, ComposerForm, PriorityForm, StatusForm
from web.i18n import STATUS_LABELS, current_language
from web.notices import desk_ticket_notices
from web.notifications import agent_replied, status_changed
from web.suggestions import problem_text
from web.uploads import checked_files, store_files, upload_too_large

bp = Blueprint("desk", __name__, url_prefix="/desk")
SUGGESTED = 5
KB_RESULTS = 8
_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.DOTALL)


@bp.before_request
def staff_only():
    user = current_user()
    if user is not None and not user.works_tickets and user.reads_insights and request.endpoint == "desk.queue":
        return redirect(url_for("insights.page"))  # an editor's desk is the insights page
    return agents_only()  # to customers (and editors) the ticket desk does not exist


def _service():
    return current_app.extensions["kb.search"]


@bp.get("/")
def queue():
    return render_queue(parse_filter(request.args))


def render_queue(chosen: QueueFilter, bulk: BulkForm | None = None, status: int = 200):
    """The queue page for `chosen` (a bulk form that was refused keeps its ticks and names its bad field)."""
    page_arg = request.args.get("page", "1")
    page = int(page_arg) if page_arg.isdigit() and len(page_arg) < 7 else 1
    size = current_app.config["KB_SETTINGS"].desk_page_size
    found = queue_page(db(), chosen, page, size, user=current_user(), visible=visible_conditions())
    groups = sorted(set(current_app.extensions["kb.routing"].groups)
                    | {g for g in db().scalars(select(Ticket.agent_group).distinct()) if g})
    return render_template("desk/queue.html", found=found, chosen=chosen, labels=STATUS_LABELS, statuses=STATUSES,
                           ages=list(AGES), organisations=organisations(db()), groups=groups,
                           categories=_service().visible_categories("internal"), priorities=PRIORITIES,
                           sla_filters=SLA_FILTERS, clocks={t.id: ticket_clocks(t).current for t in found.tickets},
                           clock_text=clock_text,
                           bulk=bulk or bulk_form(formdata=None, back=request.query_string.decode("latin-1")),
                           selected=set(bulk.ref.data or []) if bulk else set()), status


@bp.post("/bulk")
def bulk():
    """The ticked tickets of the queue, given to an owner or moved to a status in one go, each with its own event.
    A ticket this agent may not see (or that does not exist) refuses the whole request: 404, nothing changed."""
    form = bulk_form()
    back = parse_filter(dict(parse_qsl((form.back.data or "")[:2000])))
    if not form.validate_on_submit():
        return render_queue(back, form, 400)
    if len(form.ref.data or []) > MAX_TICKETS:
        abort(400)
    found, unknown = tickets_by_ref(db(), form.ref.data or [])
    if unknown or not all(may_see(t) for t in found):
        abort(404)
    if not found:
        form.ref.errors = [_("%(field)s: please tick at least one.", field=_("Tickets"))]
        return render_queue(back, form, 400)
    agent = current_user()
    try:
        if form.action.data == "assign":
            done = len(bulk_assign(db(), found, chosen_owner(form.owner.data), agent))
        elif not form.status.data:
            form.status.errors = [_("%(field)s: please fill this in.", field=_("Status"))]
            return render_queue(back, form, 400)
        else:
            moved = bulk_status(db(), found, form.status.data, agent)
            for ticket, event in moved:
                status_changed(db(), ticket, event)
            done = len(moved)
    except TicketError as exc:
        db().rollback()
        field = form.owner if form.action.data == "assign" else form.status
        field.errors = [str(exc)]
        return render_queue(back, form, 400)
    db().commit()
    flash(ngettext("%(num)d ticket changed.", "%(num)d tickets changed.", done), "info")
    return redirect(url_for("desk.queue", **back.query_args()))


def _ticket(ref: str) -> Ticket:
    return visible_ticket(ref)  # 404 for an unknown ticket and for one this agent may not see


def first_paragraph(meta: IndexedArticle) -> str:
    match = _FIRST_PARAGRAPH.search(_service().page(meta).html)
    text = Markup(match.group(1)).striptags() if match else ""
    return text or meta.description


def _entry(hit) -> dict:
    """An article as the desk lists it: public ones with the customer-facing URL, internal ones without any."""
    meta = _service().articles[hit.id]
    public = meta.audience == "public"
    return {"id": hit.id, "title": meta.title, "category": meta.category, "score": hit.score,
            "internal": not public, "read_url": url_for("desk.article", article_id=hit.id),
            "url": url_for("portal.article", article_id=hit.id, _external=True) if public else None,
            "summary": first_paragraph(meta)}


def insertion(meta: IndexedArticle, with_summary: bool) -> str:
    """What one click puts into a reply: `[title](url)` for a public article, only the title for another."""
    if meta.audience != "public":
        return meta.title
    text = f"[{meta.title}]({url_for('portal.article', article_id=meta.id, _external=True)})"
    summary = first_paragraph(meta) if with_summary else ""
    return f"{text}\n{summary}" if summary else text


def _append(draft: str | None, text: str) -> str:
    draft = draft or ""
    if draft and not draft.endswith("\n"):
        draft += "\n"
    return draft + text + "\n"


def macro_text(macro: Macro, ticket: Ticket) -> str:
    """What applying `macro` puts into a reply: its text with the placeholders filled, then a link to each of its
    articles as "Insert link" puts it (an article no longer public is left out)."""
    text = fill(macro.body, placeholder_values(ticket, current_user())).rstrip("\n")
    articles = _service().articles
    for article_id in macro.article_ids:
        meta = articles.get(article_id)
        if meta is not None and meta.audience == "public":
            text = _append(text, insertion(meta, False)).rstrip("\n")
    return text


def _macro_entries(ticket: Ticket) -> list[dict]:
    """The macro picker's buttons, each with the text it inserts and the status it chooses (when allowed now)."""
    allowed = next_statuses(ticket.status)
    return [{"id": m.id, "title": m.title, "shared": m.shared, "text": macro_text(m, ticket),
             "status": m.status if m.status in allowed else ""} for m in usable_macros(db(), current_user())]


def _composer(ticket: Ticket, **data) -> ComposerForm:
    form = ComposerForm(**data)
    form.status.choices = [("", _("Keep: %(status)s", status=STATUS_LABELS.get(ticket.status, ticket.status)))] + \
        [(s, STATUS_LABELS[s]) for s in next_statuses(ticket.status)]
    return form


def _status_form(ticket: Ticket, **data) -> StatusForm:
    form = StatusForm(**data)
    form.status.choices = [(s, STATUS_LABELS[s]) for s in next_statuses(ticket.status)]
    return form


def _category_form(ticket: Ticket, **data) -> CategoryForm:
    form = CategoryForm(**data)
    form.category.choices = [(cid, c.get("title", cid)) for cid, c in _service().visible_categories("internal").items()]
    return form


def _render(ticket: Ticket, composer: ComposerForm | None = None, confirm: dict | None = None, status: int = 200,
            status_form: StatusForm | None = None, category_form: CategoryForm | None = None,
            priority_form: PriorityForm | None = None,
            note_form: NoteForm | None = None):
    service = _service()
    composer = composer or _composer(ticket, formdata=None, kb=request.args.get("kb", "")[:2000])
    lang = current_language()
    suggested = service.search(problem_text(ticket.subject, ticket.description), k=SUGGESTED, audience="internal",
                               lang=lang)
    query = (composer.kb.data or "").strip()
    results = service.search(query, k=KB_RESULTS, audience="internal", lang=lang) if query else None
    articles = service.articles
    linked = [(link, articles.get(link.article_id)) for link in linked_articles(db(), ticket)]
    return render_template(
        "desk/ticket.html", ticket=ticket, labels=STATUS_LABELS, composer=composer, confirm=confirm,
        suggested=suggested, suggested_entries=[_entry(h) for h in suggested.hits],
        results=results, result_entries=[_entry(h) for h in results.hits] if results else [],
        earlier=[t for t in earlier_tickets(db(), ticket) if may_see(t)], linked=linked,
        status_form=status_form or _status_form(ticket, formdata=None),
        category_form=category_form or _category_form(ticket, formdata=None, category=ticket.category),
        priority_form=priority_form or PriorityForm(formdata=None, priority=ticket.priority),
        clocks=ticket_clocks(ticket), clock_text=clock_text, reasons_text=reasons_text,
        prediction=sla_rules().predict(ticket.subject, ticket.description, ticket.category or ""),
        deflection=ticket.deflection or {}, files=attachments_by_event(db(), ticket),
        note_form=note_form or NoteForm(formdata=None), macros=_macro_entries(ticket),
        staff_events=staff_history(db(), ticket),
        assign_form=assign_form(ticket), seen=max((e.id for e in ticket.events), default=0),
        **desk_ticket_notices(ticket)), status


@bp.get("/tickets/<ref>")
def ticket(ref: str):
    return _render(_ticket(ref))


@bp.post("/tickets/<ref>/reply")
def reply(ref: str):
    """Without JavaScript every composer button comes here: search, insert a link, confirm an internal one, send."""
    found = _ticket(ref)
    form = _composer(found)
    if not form.validate_on_submit():
        return _render(found, form, status=400)
    articles = _service().articles
    if request.form.get("macro"):  # a macro applied without JavaScript: the composer comes back filled
        return _apply_macro(found, form, request.form["macro"])
    chosen = request.form.get("confirm_internal") or request.form.get("insert")
    if chosen:
        meta = articles.get(chosen)
        if meta is None:
            abort(400, _("There is no such article to insert."))
        if meta.audience != "public" and request.form.get("confirm_internal") != chosen:
            return _render(found, form, confirm={"id": chosen, "title": meta.title})
        form.body.data = _append(form.body.data, insertion(meta, form.with_summary.data))
        return _render(found, form)
    if request.form.get("action") != "send" and not upload_too_large():  # (the button comes after the files)
        return _render(found, form)  # a knowledge-base search; the draft is kept
    if not (form.body.data or "").strip():
        form.body.errors = [_("%(field)s: please fill this in.", field=_("Reply"))]
    files = checked_files(form.attachments)
    if form.body.errors or files is None:
        return _render(found, form, status=400)
    other = replied_meanwhile(found, request.form.get("seen", ""), current_user())
    if other is not None:  # once: the page shown now counts as seen
        form.body.errors = [_("%(name)s replied meanwhile — review before sending.", name=other)]
        return _render(found, form, status=409)
    agent = current_user()
    cleaned = clean_reply(form.body.data, {i: a.audience for i, a in articles.items()})
    event = add_reply(db(), found, agent, cleaned.body, author_kind=AGENT)
    store_files(found, event, files, agent)
    record_links(db(), found, event, cleaned.linked, agent)
    moved = change_status(db(), found, form.status.data, agent) if form.status.data else None
    agent_replied(db(), found, event, moved)
    db().commit()
    if cleaned.removed:
        flash(_("Links to internal articles were taken out of the reply; customers cannot open them."), "error")
    flash(_("Your reply is sent; the customer sees it on their ticket."), "info")
    return redirect(url_for("desk.ticket", ref=found.ref, _anchor="history"))


def _apply_macro(ticket: Ticket, form: ComposerForm, macro_id: str):
    macro = find_macro(db(), current_user(), int(macro_id)) if macro_id.isdigit() and len(macro_id) < 12 else None
    if macro is None:
        abort(400, _("There is no such macro."))
    form.body.data = _append(form.body.data, macro_text(macro, ticket))
    if macro.status in next_statuses(ticket.status):
        form.status.data = macro.status
    return _render(ticket, form)


@bp.post("/tickets/<ref>/note")
def note(ref: str):
    """An internal note: staff read it in the ticket's history; the customer is neither shown nor sent it."""
    found = _ticket(ref)
    form = NoteForm()
    if not form.validate_on_submit():
        return _render(found, note_form=form, status=400)
    add_note(db(), found, current_user(), form.note.data)
    db().commit()
    flash(_("Internal note added; the customer does not see it."), "info")
    return redirect(url_for("desk.ticket", ref=found.ref, _anchor="history"))


@bp.post("/tickets/<ref>/status")
def status(ref: str):
    found = _ticket(ref)
    form = _status_form(found)
    if not form.validate_on_submit():
        return _render(found, status_form=form, status=400)
    status_changed(db(), found, change_status(db(), found, form.status.data, current_user()))
    db().commit()
    flash(_("Status: %(status)s.", status=STATUS_LABELS[found.status]), "info")
    return redirect(url_for("desk.ticket", ref=found.ref))


@bp.post("/tickets/<ref>/category")
def category(ref: str):
    """An agent's category replaces the prediction on the ticket; the change is kept as a label."""
    found = _ticket(ref)
    form = _category_form(found)
    if not form.validate_on_submit():
        return _render(found, category_form=form, status=400)
    change = change_category(db(), found, form.category.data, current_user(), group=route_group(form.category.data))
    db().commit()
    if change is not None:
        flash(_("Category: %(category)s; routed to %(group)s.", category=form.category.data, group=found.agent_group),
              "info")
    return redirect(url_for("desk.ticket", ref=found.ref))


@bp.post("/tickets/<ref>/priority")
def priority(ref: str):
    """An agent's priority: the SLA due times follow it; the change is a staff-only event."""
    found = _ticket(ref)
    form = PriorityForm()
    if not form.validate_on_submit():
        return _render(found, priority_form=form, status=400)
    if change_priority(db(), found, form.priority.data, current_user(), sla_rules()) is not None:
        flash(_("Priority: %(priority)s.", priority=found.priority), "info")
    db().commit()
    return redirect(url_for("desk.ticket", ref=found.ref, _anchor="sla"))


@bp.post("/tickets/<ref>/draft")
def draft(ref: str):
    """A `status: draft` article written from the ticket into the articles folder (kb/drafts.py), for an editor to
    finish and commit; the same as `kb draft-from-ticket REF`."""
    found = _ticket(ref)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
    try:
        written = draft_from_ticket(found, current_app.config["KB_SETTINGS"])
    except (KbError, OSError) as exc:
        flash(_("No draft was written: %(reason)s", reason=str(exc)), "error")
    else:
        flash(_("Draft written to %(path)s (article %(id)s): an editor finishes it and commits it.",
                path=written.path.name, id=written.article_id), "info")
    return redirect(url_for("desk.ticket", ref=found.ref, _anchor="deflection"))


@bp.get("/articles/<article_id>")
def article(article_id: str):
    """Any article, internal ones included, for agents to read."""
    meta = _service().articles.get(article_id)
    if meta is None:
        abort(404)
    return render_template("desk/article.html", article=meta, html=article_html(_service().page(meta)))
