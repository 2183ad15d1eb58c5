"""Community moderation pages (agents and admins): what waits for review and the open reports, hiding and showing
posts, releasing held ones, locking, moving and merging questions; admins add topics (public or private to one
organisation). Customers get 404: to them these pages do not exist."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from kb.drafts_community import draft_from_question
from kb.errors import CommunityError, KbError
from kb.helpdesk import community as cm
from kb.helpdesk import community_moderation as mod
from kb.helpdesk.accounts import organisations
from kb.helpdesk.community_models import ID_MAX, Question, Report
from kb.helpdesk.community_threads import set_endorsed
from web.community import answer_or_404, checked_action, question_or_404
from web.community_forms import MergeForm, MoveForm, TopicForm
from web.community_mail import answer_posted
from web.context import agents_only, current_user, db
from web.forms import ActionForm

bp = Blueprint("community_moderation", __name__, url_prefix="/community/moderation")
bp.before_request(agents_only)


def _topic_choices(form: MoveForm) -> MoveForm:
    form.topic.choices = [(t.slug, t.title + (f" ({t.organisation.name})" if t.organisation else ""))
                          for t in cm.readable_topics(db(), current_user())]
    return form


def _topic_form(form: TopicForm) -> TopicForm:
    form.organisation.choices = [("", _("Everyone (public)"))] + [(str(o.id), o.name) for o in organisations(db())]
    return form


def _page(topic_form: TopicForm | None = None, status: int = 200):
    questions, answers = mod.held_posts(db(), current_user())
    return render_template("community/moderation.html", held_questions=questions, held_answers=answers,
                           reports=mod.open_reports(db(), current_user()), action=ActionForm(),
                           topic_form=topic_form or _topic_form(TopicForm(formdata=None))), status


@bp.get("/")
def page():
    return _page()


def _back(question: Question):
    return redirect(request.form.get("back") == "queue" and url_for("community_moderation.page")
                    or url_for("community.question", question_id=question.id))


@bp.post("/q/<int:question_id>/draft")
def draft(question_id: int):
    """A `status: draft` article written from the thread into the articles folder (kb/drafts_community.py), for an
    editor to finish and commit; the same as `kb community draft QUESTION_ID`."""
    found = question_or_404(question_id)
    checked_action()
    try:
        written = draft_from_question(db(), found, current_app.config["KB_SETTINGS"])
    except (KbError, OSError) as exc:
        flash(_("No draft was written: %(reason)s", reason=str(exc)), "error")
    else:
        flash(_("Draft written to %(path)s (article %(id)s): an editor finishes it and commits it.",
                path=written.path.name, id=written.article_id), "info")
    return redirect(url_for("community.question", question_id=found.id))


@bp.post("/q/<int:question_id>/<any(hide, show, lock, unlock, release):action>")
def question_action(question_id: int, action: str):
    found = question_or_404(question_id)
    checked_action()
    user = current_user()
    {"hide": lambda: mod.set_hidden(db(), user, found, True), "show": lambda: mod.set_hidden(db(), user, found, False),
     "lock": lambda: mod.set_locked(db(), user, found, True), "unlock": lambda: mod.set_locked(db(), user, found, False),
     "release": lambda: mod.release(db(), user, found)}[action]()
    db().commit()
    return _back(found)


@bp.post("/a/<int:answer_id>/<any(hide, show, release):action>")
def answer_action(answer_id: int, action: str):
    reply = answer_or_404(answer_id)
    checked_action()
    user = current_user()
    if action == "release":
        was_held = reply.held
        mod.release(db(), user, reply)
        if was_held:  # its followers hear of it now
            answer_posted(db(), reply)
    else:
        mod.set_hidden(db(), user, reply, action == "hide")
    db().commit()
    return _back(reply.question)


@bp.post("/a/<int:answer_id>/<any(endorse, unendorse):action>")
def endorse_action(answer_id: int, action: str):
    """An agent vouches for an answer (or takes it back): it is then searched beside the articles and may be a
    confident suggestion on the contact form (web/community_search.py)."""
    reply = answer_or_404(answer_id)
    checked_action()
    try:
        set_endorsed(db(), current_user(), reply, action == "endorse")
        db().commit()
    except CommunityError:
        db().rollback()
        flash(_("A hidden or held answer cannot be endorsed."), "error")
    return redirect(url_for("community.question", question_id=reply.question_id, _anchor=f"a{reply.id}"))


@bp.post("/q/<int:question_id>/move")
def move(question_id: int):
    found = question_or_404(question_id)
    form = _topic_choices(MoveForm())
    if not form.validate_on_submit():
        flash(" ".join(form.topic.errors) or _("Choose a topic."), "error")
        return redirect(url_for("community.question", question_id=found.id))
    mod.move(db(), current_user(), found, cm.find_topic(db(), current_user(), form.topic.data))
    db().commit()
    return redirect(url_for("community.question", question_id=found.id))


@bp.post("/q/<int:question_id>/merge")
def merge(question_id: int):
    found = question_or_404(question_id)
    form = MergeForm()
    target = cm.find_question(db(), current_user(), form.target.data or 0) if form.validate_on_submit() else None
    if target is None:
        flash(" ".join(form.target.errors) or _("Merge into question number: there is no such question."), "error")
        return redirect(url_for("community.question", question_id=found.id))
    try:
        mod.merge(db(), current_user(), found, target)
    except CommunityError:
        db().rollback()
        flash(_("Merge into question number: choose another question that was not merged itself and whose topic "
                "has the same readers."), "error")
        return redirect(url_for("community.question", question_id=found.id))
    db().commit()
    flash(_("The question is merged: its answers are here now, and its address leads here."), "info")
    return redirect(url_for("community.question", question_id=target.id))


@bp.post("/reports/<int:report_id>/resolve")
def resolve(report_id: int):
    report = db().get(Report, report_id) if report_id <= ID_MAX else None
    if report is None:
        abort(404)
    checked_action()
    mod.resolve_report(db(), current_user(), report)
    db().commit()
    return redirect(url_for("community_moderation.page"))


@bp.post("/topics")
def add_topic():
    if current_user().role != "admin":
        abort(404)
    form = _topic_form(TopicForm())
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        topic = cm.add_topic(db(), current_user(), form.slug.data, form.title.data, form.description.data or "",
                             organisation_id=int(form.organisation.data) if form.organisation.data else None)
    except CommunityError as error:
        db().rollback()
        getattr(form, error.field, form.slug).errors = [
            _("Address: use lower-case letters, digits and hyphens, not taken by another topic.")
            if error.field == "slug" else str(error)]
        return _page(form, 400)
    db().commit()
    return redirect(url_for("community.topic", slug=topic.slug))
