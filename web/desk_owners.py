"""Who works a ticket, on the desk: "Take it", the assign select, and the guard against two agents answering at
once (a reply the customer can see, added since the agent opened the ticket, stops their send once)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _

from kb.helpdesk.models import EVENT_REPLY, STATUSES, SUBMITTED, Ticket, User
from kb.helpdesk.ownership import assign, assignable
from web.context import agents_only, current_user, db
from web.desk_access import visible_ticket
from web.forms import ActionForm, AssignForm, BulkForm
from web.i18n import STATUS_LABELS

bp = Blueprint("owners", __name__, url_prefix="/desk")
bp.before_request(agents_only)


def owner_choices() -> list[tuple[str, str]]:
    return [("", _("Nobody"))] + [(str(u.id), display_name(u)) for u in assignable(db())]


def display_name(user: User) -> str:
    return user.name or user.email


def assign_form(ticket: Ticket, submitted: bool = False) -> AssignForm:
    """The ticket page's owner select: its current owner chosen, or as submitted."""
    form = AssignForm() if submitted else AssignForm(formdata=None, owner=str(ticket.owner_id or ""))
    form.owner.choices = owner_choices()
    return form


def bulk_form(**data) -> BulkForm:
    form = BulkForm(**data)
    form.owner.choices = owner_choices()
    # Nobody moves a ticket back to submitted.
    form.status.choices = [("", "—")] + [(s, STATUS_LABELS[s]) for s in STATUSES if s != SUBMITTED]
    return form


def chosen_owner(value: str) -> User | None:
    """The user an owner select names ("" is nobody); 400 for a value no select offers."""
    if not value:
        return None
    found = db().get(User, int(value)) if value.isdigit() and len(value) < 10 else None
    if found is None:
        abort(400)
    return found


def replied_meanwhile(ticket: Ticket, seen: str, agent: User) -> str | None:
    """Who else added a reply the customer sees after event `seen` (the last one the agent's page showed), if
    anyone did; None too when the form carries no such number (an old page: nothing to compare)."""
    if not seen.isdigit() or len(seen) > 12:
        return None
    later = [e for e in ticket.events if e.id > int(seen) and e.kind == EVENT_REPLY and e.author_id != agent.id]
    if not later:
        return None
    author = later[-1].author
    return display_name(author) if author is not None else _("Someone")


@bp.post("/tickets/<ref>/take")
def take(ref: str):
    found = visible_ticket(ref)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
    if assign(db(), found, current_user(), current_user()) is not None:
        db().commit()
        flash(_("%(ref)s is yours.", ref=found.ref), "info")
    return redirect(url_for("desk.ticket", ref=found.ref))


@bp.post("/tickets/<ref>/assign")
def assign_to(ref: str):
    found = visible_ticket(ref)
    form = assign_form(found, submitted=True)
    if not form.validate_on_submit():
        flash(_("Owner: choose one of the agents offered."), "error")
        return redirect(url_for("desk.ticket", ref=found.ref, _anchor="owner"))
    owner = chosen_owner(form.owner.data)  # one of those offered: active agents and admins
    event = assign(db(), found, owner, current_user())
    if event is not None:
        db().commit()
        flash(_("Owner: %(name)s.", name=display_name(owner)) if owner else _("The ticket is unassigned."), "info")
    return redirect(url_for("desk.ticket", ref=found.ref))
