"""The community's forms (Flask-WTF, each with its CSRF token); errors name their field."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from kb.helpdesk.community_models import BODY_MAX, REASON_MAX, SLUG_MAX, TITLE_MAX, TOPIC_DESCRIPTION_MAX, TOPIC_TITLE_MAX
from web.forms import _length, _required, clean


class QuestionForm(FlaskForm):
    title = StringField(_l("Your question"), filters=[clean],
                        validators=[_required(_l("Your question")), _length(_l("Your question"), TITLE_MAX)])
    body = TextAreaField(_l("Details"), filters=[clean],
                         validators=[_required(_l("Details")), _length(_l("Details"), BODY_MAX)])
    # "1" once the asker has seen what may already answer it (the page's script, or the no-JS step, sets it).
    checked = HiddenField()


class AnswerForm(FlaskForm):
    body = TextAreaField(_l("Your answer"), filters=[clean],
                         validators=[_required(_l("Your answer")), _length(_l("Your answer"), BODY_MAX)])


class ReportForm(FlaskForm):
    reason = StringField(_l("What is wrong with it?"), filters=[clean],
                         validators=[_required(_l("Reason")), _length(_l("Reason"), REASON_MAX)])


class MoveForm(FlaskForm):
    topic = SelectField(_l("Move to topic"), validate_choice=True, choices=[])


class MergeForm(FlaskForm):
    target = IntegerField(_l("Merge into question number"), validators=[_required(_l("Merge into question number"))])


class TopicForm(FlaskForm):
    slug = StringField(_l("Address"), filters=[clean],
                       validators=[_required(_l("Address")), _length(_l("Address"), SLUG_MAX)])
    title = StringField(_l("Title"), filters=[clean],
                        validators=[_required(_l("Title")), _length(_l("Title"), TOPIC_TITLE_MAX)])
    description = StringField(_l("Description"), filters=[clean],
                              validators=[Optional(), _length(_l("Description"), TOPIC_DESCRIPTION_MAX)])
    organisation = SelectField(_l("Who may read it"), validate_choice=True, choices=[])
