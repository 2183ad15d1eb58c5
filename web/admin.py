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
from web.forms import ROLE_LABELS, AgentForm, OrganisationForm

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
                           domains=domains(db()), domain_form=_domain_form(domain_form)), status


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
