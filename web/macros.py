"""The desk's macros pages: list, create, change and delete saved replies (agents and admins only).

Another agent's personal macro does not exist for anyone but its owner (404); a shared one that someone may use
but not change (neither its author nor an admin) answers 403 to a change.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.helpdesk.macro_models import Macro
from kb.helpdesk.macros import ARTICLES_MAX, MACRO_STATUSES, delete_macro, find_macro, may_edit, save_macro, usable_macros
from web.context import agents_only, current_user, db
from web.desk import first_paragraph
from web.desk_forms import MacroForm, article_id_list
from web.forms import ActionForm
from web.i18n import STATUS_LABELS

bp = Blueprint("macros", __name__, url_prefix="/desk/macros")


@bp.before_request
def staff_only():
    return agents_only()


def _articles():
    return current_app.extensions["kb.search"].articles


def _form(**data) -> MacroForm:
    form = MacroForm(**data)
    form.status.choices = [("", _("Keep the status"))] + [(s, STATUS_LABELS[s]) for s in MACRO_STATUSES]
    return form


def _page(form: MacroForm, macro: Macro | None, status: int = 200):
    return render_template("desk/macro.html", form=form, macro=macro), status


def _macro(macro_id: int, edit: bool = False) -> Macro:
    macro = find_macro(db(), current_user(), macro_id)
    if macro is None:
        abort(404)
    if edit and not may_edit(current_user(), macro):
        abort(403)
    return macro


@bp.get("/")
def index():
    user = current_user()
    return render_template("desk/macros.html", macros=usable_macros(db(), user), may_edit=may_edit,
                           labels=STATUS_LABELS, articles=_articles(), delete_form=ActionForm())


@bp.get("/new")
def new():
    """A new macro; `?article=ID` prefills one for a public article ("Save as macro" beside a suggestion)."""
    meta = _articles().get(request.args.get("article", "")[:200])
    if meta is not None and meta.audience == "public":
        body = _("Hello {customer_name},") + "\n\n" + first_paragraph(meta)
        return _page(_form(formdata=None, title=meta.title, body=body, articles=meta.id), None)
    return _page(_form(formdata=None), None)


def _save(macro: Macro | None):
    form = _form()
    if not form.validate_on_submit():
        return _page(form, macro, 400)
    audiences = {i: a.audience for i, a in _articles().items()}
    ids = article_id_list(form.articles.data)
    refused = [i for i in ids if audiences.get(i) != "public"]
    if refused or len(ids) > ARTICLES_MAX:
        form.articles.errors = [
            _("%(field)s: no public article has the id %(ids)s.", field=_("Linked articles"), ids=", ".join(refused))
            if refused else _("%(field)s: at most %(max)d articles.", field=_("Linked articles"), max=ARTICLES_MAX)]
        return _page(form, macro, 400)
    saved = save_macro(db(), current_user(), macro, title=form.title.data, body=form.body.data, article_ids=ids,
                       status=form.status.data or "", shared=bool(form.shared.data), audiences=audiences)
    db().commit()
    flash(_("Macro “%(title)s” is saved.", title=saved.title), "info")
    return redirect(url_for("macros.index"))


@bp.post("/new")
def create():
    return _save(None)


@bp.get("/<int:macro_id>")
def edit(macro_id: int):
    macro = _macro(macro_id, edit=True)
    return _page(_form(formdata=None, obj=macro, articles=" ".join(macro.article_ids)), macro)


@bp.post("/<int:macro_id>")
def update(macro_id: int):
    return _save(_macro(macro_id, edit=True))


@bp.post("/<int:macro_id>/delete")
def delete(macro_id: int):
    macro = _macro(macro_id, edit=True)
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
    title = macro.title
    delete_macro(db(), current_user(), macro)
    db().commit()
    flash(_("Macro “%(title)s” is deleted.", title=title), "info")
    return redirect(url_for("macros.index"))
