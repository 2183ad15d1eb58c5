"""A staff user's own personal API tokens (`/account/tokens`): create one (shown once, on the answer to the
form, never stored or shown again), list them, revoke one. Agents and admins only: to everyone else the page does
not exist (customers never get a token)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from kb.errors import AccountError
from kb.helpdesk.api_tokens import create_token, revoke_token, tokens_of
from web.account_forms import TokenForm
from web.context import agents_only, current_user, db
from web.forms import ActionForm

bp = Blueprint("tokens", __name__, url_prefix="/account/tokens")
bp.before_request(agents_only)


@bp.after_request
def not_kept(response):
    """A page that may show a token: no cache keeps it, no other site hears of the address."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _page(form: TokenForm | None = None, created: str | None = None, status: int = 200):
    return render_template("account/tokens.html", form=form or TokenForm(formdata=None), created=created,
                           tokens=tokens_of(db(), current_user()), action=ActionForm()), status


@bp.get("/")
def page():
    return _page()


@bp.post("/")
def create():
    form = TokenForm()
    if not form.validate_on_submit():
        return _page(form, status=400)
    try:
        _row, token = create_token(db(), current_user(), form.scope.data, form.name.data or "")
    except AccountError as exc:
        db().rollback()
        form.name.errors = [str(exc)]
        return _page(form, status=400)
    db().commit()
    return _page(created=token)


@bp.post("/<int:token_id>/revoke")
def revoke(token_id: int):
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
    try:
        row = revoke_token(db(), token_id, owner=current_user())
    except AccountError:
        abort(404)
    db().commit()
    flash(_("Token %(prefix)s is revoked: requests with it are refused from now on.", prefix=row.prefix), "info")
    return redirect(url_for("tokens.page"))
