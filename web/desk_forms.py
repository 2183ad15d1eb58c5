"""The desk's forms for internal notes and macros (Flask-WTF, each with its CSRF token); errors name their field."""
from __future__ import annotations

import re

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError

from kb.helpdesk.macro_models import MACRO_TITLE_MAX
from kb.helpdesk.macros import PLACEHOLDERS, unknown_placeholders
from kb.helpdesk.models import DESCRIPTION_MAX
from web.forms import _length, _required, clean

_IDS = re.compile(r"[\s,]+")


class _Placeholders:
    """Only the known placeholders: a typo like `{customer}` is named before the macro is saved."""

    def __init__(self, label) -> None:
        self.label = label

    def __call__(self, form, field) -> None:
        unknown = unknown_placeholders(field.data or "")
        if unknown:
            raise ValidationError(_("%(field)s: unknown placeholder %(names)s; use %(known)s.", field=self.label,
                                    names=", ".join(unknown), known=", ".join(f"{{{p}}}" for p in PLACEHOLDERS)))


def article_id_list(text: str | None) -> list[str]:
    """The article ids typed in the macro form, separated by spaces or commas."""
    return [i for i in _IDS.split(text or "") if i]


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Internal note"), filters=[clean], id="note-body",
                         validators=[_required(_l("Internal note")), _length(_l("Internal note"), DESCRIPTION_MAX)])


class MacroForm(FlaskForm):
    title = StringField(_l("Title"), filters=[clean],
                        validators=[_required(_l("Title")), _length(_l("Title"), MACRO_TITLE_MAX)])
    body = TextAreaField(_l("Text"), filters=[clean], validators=[
        _required(_l("Text")), _length(_l("Text"), DESCRIPTION_MAX), _Placeholders(_l("Text"))])
    articles = StringField(_l("Linked articles"), filters=[clean], validators=[_length(_l("Linked articles"), 2000)])
    status = SelectField(_l("Status to set when the reply is sent"), validate_choice=True, choices=[], default="")
    shared = BooleanField(_l("Shared with every agent"))
