"""The desk's admin page: agents and organisations (admins only; to anyone else it does not exist)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from kb.helpdesk.accounts import add_organisation, add_staff, organisations, staff
from kb.errors import AccountError
from kb.helpdesk.models import ADMIN_ROLE, Ticket, User
from web.context import current_user, db
from kb.helpdesk.org_domains import add_domain as add_org_domain, domains
from web.account_forms import DomainForm
from web.forms import ROLE_LABELS, ActionForm, AgentForm, OrganisationForm, StaffForm
from kb.helpdesk.ownership import open_tickets_of
from kb.helpdesk.staff_accounts import find_staff, orphaned_tickets, set_active, update_staff

bp = Blueprint("admin", __name__, url_prefix="/desk/admin")


@bp.before_request
def admins_only():
    user = current_user()
    if user is None:
        return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
    if user.role != ADMIN_ROLE:
        abort(404)
    return None


def _domain_form(form: DomainForm | None = None) -> DomainForm:
    form = form or DomainForm(formdata=None)
    form.organisation.choices = [(o.name, o.name) for o in organisations(db())]
    return form


def _render(agent_form: AgentForm | None = None, org_form: OrganisationForm | None = None,
            domain_form: DomainForm | None = None, status: int = 200):
    users = dict(db().execute(select(User.organisation_id, func.count()).group_by(User.organisation_id)).all())
    tickets = dict(db().execute(select(Ticket.organisation_id, func.count()).group_by(Ticket.organisation_id)).all())
    return render_template("desk/admin.html", staff=staff(db()), organisations=organisations(db()), users=users,
                           tickets=tickets, agent_form=agent_form or AgentForm(formdata=None),
                           org_form=org_form or OrganisationForm(formdata=None), role_labels=ROLE_LABELS,
                           domains=domains(db()), domain_form=_domain_form(domain_form),
                           orphaned=orphaned_tickets(db())), status


@bp.get("/")
def page():
    return _render()


@bp.post("/agents")
def add_agent():
    form = AgentForm()
    if form.validate_on_submit():
        try:
            created = add_staff(db(), form.email.data, form.password.data, form.role.data, form.group.data or "",
                                form.name.data or "")
        except AccountError as exc:
            db().rollback()
            form.email.errors = [str(exc)]
        else:
            db().commit()
            # Flashed messages travel in the session cookie: the new account is named by its role, not its address.
            flash(_("The new account (%(role)s) can now sign in to the desk.",
                    role=ROLE_LABELS.get(created.role, created.role)), "info")
            return redirect(url_for("admin.page"))
    return _render(agent_form=form, status=400)


@bp.post("/organisations")
def add_org():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            created = add_organisation(db(), form.name.data)
        except AccountError as exc:
            db().rollback()
            form.name.errors = [str(exc)]
        else:
            db().commit()
            flash(_("Organisation %(name)s is added.", name=created.name), "info")
            return redirect(url_for("admin.page"))
    return _render(org_form=form, status=400)


@bp.post("/domains")
def add_domain():
    form = _domain_form(DomainForm())
    if form.validate_on_submit():
        try:
            found = add_org_domain(db(), form.organisation.data, form.domain.data, form.signup.data)
        except AccountError:
            db().rollback()
            form.domain.errors = [_("Domain: not a domain name like example.com, or another organisation has it.")]
        else:
            db().commit()
            flash(_("Domain %(domain)s is added.", domain=found.domain), "info")
            return redirect(url_for("admin.page"))
    return _render(domain_form=form, status=400)


def _staff_member(user_id: int) -> User:
    found = find_staff(db(), user_id) if user_id < 2**31 else None
    if found is None:
        abort(404)
    return found


def _render_staff(member: User, form: StaffForm | None = None, status: int = 200):
    form = form or StaffForm(formdata=None, name=member.name, role=member.role, group=member.agent_group)
    return render_template("desk/agent.html", member=member, form=form, role_labels=ROLE_LABELS,
                           tickets=open_tickets_of(db(), member)), status


@bp.route("/agents/<int:user_id>", methods=["GET", "POST"])
def agent(user_id: int):
    """One staff account: its name, role and group, whether it may sign in, the open tickets it owns."""
    member = _staff_member(user_id)
    if request.method == "GET":
        return _render_staff(member)
    form = StaffForm()
    if not form.validate_on_submit():
        return _render_staff(member, form, 400)
    try:
        update_staff(db(), member, form.name.data or "", form.role.data, form.group.data or "", current_user())
    except AccountError as exc:
        db().rollback()
        named = str(exc).split(":", 1)[0]
        getattr(form, named if named in ("name", "role", "group") else "name").errors = [str(exc)]
        return _render_staff(member, form, 400)
    db().commit()
    flash(_("Saved."), "info")
    return redirect(url_for("admin.agent", user_id=member.id))


@bp.post("/agents/<int:user_id>/active")
def activation(user_id: int):
    """Deactivate (the account cannot sign in, its sessions end) or reactivate a staff account."""
    member = _staff_member(user_id)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
    active = request.form.get("active") == "1"
    try:
        set_active(db(), member, active, current_user())
    except AccountError:
        db().rollback()
        flash(_("You cannot deactivate your own account."), "error")
        return redirect(url_for("admin.agent", user_id=member.id))
    db().commit()
    flash(_("The account is active again: it can sign in.") if active else
          _("The account is deactivated: it cannot sign in, and its sessions have ended."), "info")
    return redirect(url_for("admin.agent", user_id=member.id))
