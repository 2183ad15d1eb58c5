"""The portal's forms (Flask-WTF: every one carries a CSRF token). Errors name their field.

Labels and messages are lazy translations: they are put into words when a page shows them, in its language.
"""
from __future__ import annotations

import re
import secrets

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (BooleanField, DateTimeLocalField, EmailField, HiddenField, PasswordField, RadioField, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional, Regexp, StopValidation, ValidationError

from kb.helpdesk.models import (ADMIN_ROLE, AGENT_ROLE, DESCRIPTION_MAX, EDITOR_ROLE, EMAIL_MAX, GROUP_MAX, MANAGER,
                                MEMBER, NAME_MAX, STAFF_ROLES, SUBJECT_MAX)
from kb.helpdesk.sla import PRIORITIES

QUERY_MAX = 2000
ROLE_LABELS = {AGENT_ROLE: _l("agent"), ADMIN_ROLE: _l("admin"), EDITOR_ROLE: _l("editor"), MEMBER: _l("member"),
               MANAGER: _l("manager")}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
FORM_KEY_RE = r"^[A-Za-z0-9_-]{16,64}$"


def clean(value: str | None) -> str | None:
    """Text as typed, less control characters (which no field needs and some databases refuse) and lone
    surrogates (half a UTF-16 pair, e.g. a JSON `\\ud800`: no UTF-8 text can hold one)."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def has_surrogate(value: str) -> bool:
    """Whether `value` holds a lone surrogate, which cannot be stored, searched or sent back as UTF-8."""
    return _SURROGATE.search(value) is not None


def new_form_key() -> str:
    """A one-time key for a form that files something: submitting the form twice files it once."""
    return secrets.token_urlsafe(24)


class _MaxLength(Length):
    """At most `maximum` characters; the message names the field in the page's language."""

    def __init__(self, label, maximum: int) -> None:
        super().__init__(max=maximum)
        self.label = label

    def __call__(self, form, field) -> None:
        length = len(field.data) if field.data else 0
        if length > self.max:
            raise ValidationError(_("%(field)s: at most %(max)d characters (this has %(length)d).",
                                    field=self.label, max=self.max, length=length))


class _Required(DataRequired):
    def __init__(self, label) -> None:
        super().__init__()
        self.label = label

    def __call__(self, form, field) -> None:
        if not field.data or isinstance(field.data, str) and not field.data.strip():
            field.errors[:] = []
            raise StopValidation(_("%(field)s: please fill this in.", field=self.label))


def _length(label, maximum: int) -> Length:
    return _MaxLength(label, maximum)


def _required(label) -> DataRequired:
    return _Required(label)


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), filters=[clean],
                       validators=[_required(_l("E-mail")), _length(_l("E-mail"), EMAIL_MAX)])
    password = PasswordField(_l("Password"), validators=[_required(_l("Password")), _length(_l("Password"), 1024)])
    next = HiddenField(filters=[clean])


class DescribeForm(FlaskForm):
    """Contact support, step 1: what is wrong (both fields optional, to reach the ticket form in one click)."""

    subject = StringField(_l("Subject"), filters=[clean], validators=[_length(_l("Subject"), SUBJECT_MAX)])
    description = TextAreaField(_l("Describe the problem"), filters=[clean],
                                validators=[_length(_l("Description"), DESCRIPTION_MAX)])
    # The typing session of the searches this form made (the page's script or the previous step sets it; anything
    # but a search token is ignored, web/analytics.py).
    session = HiddenField()


class TicketForm(FlaskForm):
    subject = StringField(_l("Subject"), filters=[clean],
                          validators=[_required(_l("Subject")), _length(_l("Subject"), SUBJECT_MAX)])
    description = TextAreaField(_l("Describe the problem"), filters=[clean],
                                validators=[_required(_l("Description")), _length(_l("Description"), DESCRIPTION_MAX)])
    category = SelectField(_l("Category"), validate_choice=True, choices=[])
    searched = HiddenField(filters=[clean], validators=[_length(_l("Search"), QUERY_MAX)])
    session = HiddenField()  # the contact step's typing session (anything but a search token is ignored)
    # Given when the form is shown (`new_form_key`); the same key submitted again files no second ticket.
    idempotency_key = HiddenField(validators=[Optional(), Regexp(FORM_KEY_RE, message=_l(
        "This form has expired or did not come from this site. Reload the page and try again."))])
    # The known issues the customer ticked to attach the ticket to (ids; those no longer active are skipped).
    notices = SelectMultipleField(validate_choice=False, choices=[])
    attachments = MultipleFileField(_l("Attach files"))  # checked by kb/helpdesk/attachments.py


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your reply"), filters=[clean],
                         validators=[_required(_l("Reply")), _length(_l("Reply"), DESCRIPTION_MAX)])
    attachments = MultipleFileField(_l("Attach files"))


class SolvedForm(FlaskForm):
    article_id = HiddenField(validators=[_required(_l("Article")), Length(max=200)])
    query = HiddenField(filters=[clean], validators=[_length(_l("Search"), QUERY_MAX)])
    search = HiddenField(validators=[Length(max=32)])  # the recorded search's token, when there is one


class EffortForm(FlaskForm):
    """Customer effort: "How easy was it to solve your problem?" from 1 (very hard) to 7 (very easy), about the
    article that solved it or the resolved ticket."""

    score = RadioField(_l("How easy was it to solve your problem?"), choices=[str(n) for n in range(1, 8)],
                       validators=[_required(_l("How easy was it to solve your problem?"))])
    article_id = HiddenField(validators=[Length(max=200)])
    ticket = HiddenField(validators=[Length(max=16)])


class ActionForm(FlaskForm):
    """A button-only form (sign out, a vote): nothing but its CSRF token."""


class ComposerForm(FlaskForm):
    """The desk's reply composer: one form for searching the knowledge base, inserting links and sending."""

    body = TextAreaField(_l("Reply to the customer"), filters=[clean],
                         validators=[_length(_l("Reply"), DESCRIPTION_MAX)])
    kb = StringField(_l("Search the knowledge base"), filters=[clean], validators=[_length(_l("Search"), QUERY_MAX)])
    with_summary = BooleanField(_l("Insert the article's first paragraph too"))
    status = SelectField(_l("Then set the status"), validate_choice=True, choices=[], default="", id="reply-status")
    attachments = MultipleFileField(_l("Attach files"), id="reply-attachments")


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), validate_choice=True, choices=[], id="new-status")


class CategoryForm(FlaskForm):
    category = SelectField(_l("Category"), validate_choice=True, choices=[], id="new-category")


class PriorityForm(FlaskForm):
    priority = SelectField(_l("Priority"), validate_choice=True, choices=list(PRIORITIES),
                           id="new-priority")


class AssignForm(FlaskForm):
    """A ticket's owner: an active agent or admin (their id), or "" for nobody."""

    owner = SelectField(_l("Owner"), validate_choice=True, choices=[], default="", id="new-owner")


class BulkForm(FlaskForm):
    """The queue's bulk action on the ticked tickets: give them to an owner, or move them to a status."""

    ref = SelectMultipleField(_l("Tickets"), validate_choice=False, choices=[])
    action = SelectField(_l("Action"), validate_choice=True, choices=["assign", "status"])
    owner = SelectField(_l("Owner"), validate_choice=True, choices=[], default="", id="bulk-owner")
    status = SelectField(_l("Status"), validate_choice=True, choices=[], default="", id="bulk-status")
    back = HiddenField()  # the queue's query string, to return to the same view

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.action.choices = [("assign", _("Assign to")), ("status", _("Set status"))]


class AgentForm(FlaskForm):
    email = EmailField(_l("E-mail"), filters=[clean],
                       validators=[_required(_l("E-mail")), _length(_l("E-mail"), EMAIL_MAX)])
    name = StringField(_l("Name"), filters=[clean], validators=[_length(_l("Name"), NAME_MAX)])
    role = SelectField(_l("Role"), choices=list(STAFF_ROLES), validate_choice=True)
    group = StringField(_l("Agent group"), filters=[clean], validators=[_length(_l("Agent group"), GROUP_MAX)])
    password = PasswordField(_l("Password"), validators=[_required(_l("Password")), _length(_l("Password"), 1024)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [(r, ROLE_LABELS[r]) for r in STAFF_ROLES]  # the roles named in the page's language


class StaffForm(FlaskForm):
    """An admin's changes to a staff account: name, role, agent group."""

    name = StringField(_l("Name"), filters=[clean], validators=[_length(_l("Name"), NAME_MAX)])
    role = SelectField(_l("Role"), choices=list(STAFF_ROLES), validate_choice=True)
    group = StringField(_l("Agent group"), filters=[clean], validators=[_length(_l("Agent group"), GROUP_MAX)])

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = [(r, ROLE_LABELS[r]) for r in STAFF_ROLES]


class OrganisationForm(FlaskForm):
    name = StringField(_l("Organisation name"), filters=[clean],
                       validators=[_required(_l("Organisation name")), _length(_l("Organisation name"), NAME_MAX)])


class _MomentField(DateTimeLocalField):
    """A date and time in UTC, as a browser's date-time picker sends it or typed as `YYYY-MM-DD HH:MM`; empty is
    None. A bad value keeps what was typed and its message names the field."""

    FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]

    def __init__(self, label, **kwargs) -> None:
        super().__init__(label, format=self.FORMATS, **kwargs)
        self.name_for_errors = label

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata([valuelist[0].strip()])
        except ValueError:
            self.data = None
            raise ValueError(_("%(field)s: write a date and time as YYYY-MM-DD HH:MM (UTC).",
                               field=self.name_for_errors)) from None


class NoticeForm(FlaskForm):
    """A known issue on the desk: what is wrong, for which category (or everyone), from when until when (UTC)."""

    title = StringField(_l("Title"), filters=[clean],
                        validators=[_required(_l("Title")), _length(_l("Title"), SUBJECT_MAX)])
    body = TextAreaField(_l("What customers should know"), filters=[clean],
                         validators=[_length(_l("What customers should know"), DESCRIPTION_MAX)])
    category = SelectField(_l("Category"), validate_choice=True, choices=[], default="")
    starts_at = _MomentField(_l("Starts (UTC)"))
    ends_at = _MomentField(_l("Ends (UTC)"))

    def validate_ends_at(self, field) -> None:
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_("%(field)s: must be after the start.", field=_("Ends (UTC)")))


class NoticeResolveForm(FlaskForm):
    resolution = TextAreaField(_l("What was done (sent to the attached customers)"), filters=[clean],
                               validators=[_length(_l("Resolution"), DESCRIPTION_MAX)])
