"""The community pages: topics, questions with their answers, asking, answering, editing, votes, accepting,
following and reports (moderation is web/community_moderation.py).

Reading a public topic needs no account; posting does. Another organisation's private topic, and everything in
it, answers 404: to them it does not exist (kb/helpdesk/community.py `may_read`). A merged question's address
redirects to the question it was merged into.
"""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, abort, current_app, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from kb.errors import CommunityError, CommunityForbidden
from kb.helpdesk import community as cm
from kb.helpdesk.community_models import Answer, Question
from kb.markdown_html import PostRenderer
from web.community_forms import AnswerForm, QuestionForm, ReportForm
from web.community_mail import answer_posted
from web.community_suggest import asked_before
from web.context import current_user, db, signed_in
from web.forms import QUERY_MAX, ActionForm

bp = Blueprint("community", __name__, url_prefix="/community")

# Domain errors that are no form field's, by field, in the page's language.
_REFUSALS = {"vote": _l("You cannot vote for your own answer, nor twice for one answer."),
             "answer": _l("A hidden or held answer cannot be accepted."),
             "body": _l("This question was merged into another one: answer there.")}


@bp.app_template_filter("post_html")
def post_html(text: str) -> Markup:
    """A post's Markdown as safe HTML (no raw HTML, images as links, links nofollow ugc); one parser per request."""
    if "kb_post_renderer" not in g:
        g.kb_post_renderer = PostRenderer()
    return Markup(g.kb_post_renderer.render(text or ""))


def _hold_first() -> int:
    return current_app.config["KB_SETTINGS"].community_hold_first_posts


def question_or_404(question_id: int) -> Question:
    question = cm.find_question(db(), current_user(), question_id)
    if question is None:
        abort(404)
    return question


def answer_or_404(answer_id: int) -> Answer:
    reply = cm.find_answer(db(), current_user(), answer_id)
    if reply is None:
        abort(404)
    return reply


def checked_action() -> None:
    if not ActionForm().validate_on_submit():
        abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))


def refused(error: CommunityError) -> None:
    """A domain refusal at the edge: 403 for what the user may not do, else a message on the page."""
    if isinstance(error, CommunityForbidden):
        abort(403)
    flash(str(_REFUSALS.get(error.field, _("This cannot be done."))), "error")


# --- reading ----------------------------------------------------------------------------------------------------

def _category_topics() -> None:
    """A topic for each public help-center category that has none yet (a new category gets one on first use)."""
    categories = current_app.extensions["kb.search"].categories
    try:
        if cm.ensure_category_topics(db(), {cid: c.get("title", cid) for cid, c in categories.items()}):
            db().commit()
    except IntegrityError:  # another request made them at the same moment
        db().rollback()


@bp.get("")
def index():
    _category_topics()
    user = current_user()
    recent = cm.recent_questions(db(), user)
    return render_template("community/index.html", topics=cm.readable_topics(db(), user),
                           counts=cm.topic_counts(db(), user), recent=recent,
                           answers=cm.answer_counts(db(), user, [q.id for q in recent]))


@bp.get("/<slug>")
def topic(slug: str):
    found = cm.find_topic(db(), current_user(), slug)
    if found is None:
        _category_topics()
        found = cm.find_topic(db(), current_user(), slug)
    if found is None:
        abort(404)
    listing = request.args.get("show", cm.NEWEST)
    listing = listing if listing in cm.LISTINGS else cm.NEWEST
    page = request.args.get("page", 1, type=int) or 1
    questions = cm.topic_questions(db(), current_user(), found, listing, page)
    return render_template("community/topic.html", topic=found, questions=questions, listing=listing, page=page,
                           page_size=cm.PAGE_SIZE,
                           answers=cm.answer_counts(db(), current_user(), [q.id for q in questions]))


def question_page(question: Question, answer_form: AnswerForm | None = None, status: int = 200,
                  report: tuple[str, int, ReportForm] | None = None):
    """The question's page; `report`: a report form that was refused (("q" or "a", the post's id, the form)),
    shown open with its error and what was typed."""
    user = current_user()
    seen = cm.mark_seen(db(), user, question)
    if seen is not None:
        db().commit()
    answers = cm.visible_answers(user, question)
    new = {a.id for a in answers if seen is not None and a.created_at > seen and a.author_id != user.id}
    return render_template("community/question.html", question=question, answers=answers, new_answers=new,
                           answer_form=answer_form or AnswerForm(formdata=None), action=ActionForm(),
                           report_form=ReportForm(formdata=None), report=report, voted=cm.voted_answers(db(), user, question),
                           following=cm.following(db(), user, question) is not None,
                           may_edit=lambda post: cm.may_edit(user, post),
                           may_accept=cm.may_accept(user, question), moderator=cm.may_moderate(user),
                           topics=cm.readable_topics(db(), user) if cm.may_moderate(user) else []), status


@bp.get("/q/<int:question_id>")
def question(question_id: int):
    found = question_or_404(question_id)
    if found.merged_into_id is not None:
        return redirect(url_for("community.question", question_id=found.merged_into_id), 301)
    return question_page(found)


# --- posting ----------------------------------------------------------------------------------------------------

def _ask_page(topic, form: QuestionForm, status: int = 200, asked=None):
    return render_template("community/ask.html", topic=topic, form=form, asked=asked), status


@bp.get("/suggest")
def suggest():
    """JSON for the ask form's script: articles and answered questions like the title `q` (and `body`), those of
    topic `topic` first; community questions are marked `"kind": "community"`."""
    slug = request.args.get("topic", "")
    topic = cm.find_topic(db(), current_user(), slug) if slug and slug.isprintable() else None  # no NUL to SQL
    return jsonify(asked_before(request.args.get("q", "")[:QUERY_MAX], request.args.get("body", "")[:QUERY_MAX],
                                topic).to_dict())


@bp.route("/<slug>/ask", methods=["GET", "POST"])
@signed_in
def ask(slug: str):
    found = cm.find_topic(db(), current_user(), slug)
    if found is None:
        abort(404)
    if request.method == "GET":
        return _ask_page(found, QuestionForm(formdata=None))
    form = QuestionForm()
    if not form.validate_on_submit():
        return _ask_page(found, form, 400)
    if form.checked.data != "1":  # the first time, without the page's script: what may answer it, then "Post anyway"
        matches = asked_before(form.title.data, form.body.data, found)
        if matches:
            form.checked.data = "1"
            return _ask_page(found, form, asked=matches)
    try:
        asked = cm.ask(db(), current_user(), found, form.title.data, form.body.data, _hold_first())
    except CommunityError as error:
        if isinstance(error, CommunityForbidden):
            abort(403)
        getattr(form, error.field, form.body).errors = [str(error)]
        return _ask_page(found, form, 400)
    db().commit()
    if asked.held:
        flash(_("Thank you. Your question will be shown to others once a moderator has reviewed it."), "info")
    return redirect(url_for("community.question", question_id=asked.id))


@bp.post("/q/<int:question_id>/answer")
@signed_in
def answer(question_id: int):
    found = question_or_404(question_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return question_page(found, form, 400)
    try:
        reply = cm.answer(db(), current_user(), found, form.body.data, _hold_first())
    except CommunityError as error:
        refused(error)
        return question_page(found, form, 400)
    answer_posted(db(), reply)
    db().commit()
    if reply.held:
        flash(_("Thank you. Your answer will be shown to others once a moderator has reviewed it."), "info")
    return redirect(url_for("community.question", question_id=found.id, _anchor=f"a{reply.id}"))


def _edit_page(form, question: Question, reply: Answer | None, status: int = 200):
    post = reply or question
    return render_template("community/edit.html", form=form, question=question, answer=reply,
                           revisions=cm.revisions(db(), post)), status


@bp.route("/q/<int:question_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_question(question_id: int):
    found = question_or_404(question_id)
    if not cm.may_edit(current_user(), found):
        abort(403)
    if request.method == "GET":
        return _edit_page(QuestionForm(formdata=None, obj=found), found, None)
    form = QuestionForm()
    if not form.validate_on_submit():
        return _edit_page(form, found, None, 400)
    try:
        cm.edit_question(db(), current_user(), found, form.title.data, form.body.data)
    except CommunityError as error:
        refused(error)
        return _edit_page(form, found, None, 400)
    db().commit()
    return redirect(url_for("community.question", question_id=found.id))


@bp.route("/a/<int:answer_id>/edit", methods=["GET", "POST"])
@signed_in
def edit_answer(answer_id: int):
    reply = answer_or_404(answer_id)
    if not cm.may_edit(current_user(), reply):
        abort(403)
    if request.method == "GET":
        return _edit_page(AnswerForm(formdata=None, obj=reply), reply.question, reply)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _edit_page(form, reply.question, reply, 400)
    try:
        cm.edit_answer(db(), current_user(), reply, form.body.data)
    except CommunityError as error:
        refused(error)
        return _edit_page(form, reply.question, reply, 400)
    db().commit()
    return redirect(url_for("community.question", question_id=reply.question_id, _anchor=f"a{reply.id}"))


def _act(action: Callable[[], Any], question_id: int, anchor: str = ""):
    checked_action()
    try:
        action()
        db().commit()
    except CommunityError as error:
        db().rollback()
        refused(error)
    except IntegrityError:  # the same vote or follow sent twice at once: the first one counted
        db().rollback()
    return redirect(url_for("community.question", question_id=question_id, _anchor=anchor or None))


@bp.post("/a/<int:answer_id>/vote")
@signed_in
def vote(answer_id: int):
    reply = answer_or_404(answer_id)
    return _act(lambda: cm.vote(db(), current_user(), reply), reply.question_id, f"a{reply.id}")


@bp.post("/a/<int:answer_id>/accept")
@signed_in
def accept(answer_id: int):
    reply = answer_or_404(answer_id)
    return _act(lambda: cm.accept(db(), current_user(), reply), reply.question_id, f"a{reply.id}")


@bp.post("/q/<int:question_id>/follow")
@signed_in
def follow(question_id: int):
    found = question_or_404(question_id)
    return _act(lambda: cm.follow(db(), current_user(), found), found.id)


@bp.post("/q/<int:question_id>/unfollow")
@signed_in
def unfollow(question_id: int):
    found = question_or_404(question_id)
    return _act(lambda: cm.unfollow(db(), current_user(), found), found.id)


def _report(post, question: Question):
    form = ReportForm()
    if not form.validate_on_submit():
        if not form.reason.errors:  # the CSRF token, not the reason
            abort(400, _("This form has expired or did not come from this site. Reload the page and try again."))
        return question_page(question, status=400, report=("a" if isinstance(post, Answer) else "q", post.id, form))
    try:
        cm.report(db(), current_user(), post, form.reason.data)
    except CommunityError as error:
        refused(error)
        return redirect(url_for("community.question", question_id=question.id))
    db().commit()
    flash(_("Thank you. A moderator will look at it."), "info")
    return redirect(url_for("community.question", question_id=question.id))


@bp.post("/q/<int:question_id>/report")
@signed_in
def report_question(question_id: int):
    found = question_or_404(question_id)
    return _report(found, found)


@bp.post("/a/<int:answer_id>/report")
@signed_in
def report_answer(answer_id: int):
    reply = answer_or_404(answer_id)
    return _report(reply, reply.question)


# Reading views count with article pages (`rate_limit_views`); posting views are limited together by
# `rate_limit_community_posts` (web/rate_limits.py).
READING_ENDPOINTS = ("community.index", "community.topic", "community.question")
POSTING_ENDPOINTS = ("community.ask", "community.answer", "community.edit_question", "community.edit_answer",
                     "community.report_question", "community.report_answer")
