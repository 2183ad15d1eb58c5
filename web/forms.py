"""The portal's forms (Flask-WTF: every one carries a CSRF token). Errors name their field."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length

from kb.models import DESCRIPTION_MAX, EMAIL_MAX, GROUP_MAX, NAME_MAX, STAFF_ROLES, SUBJECT_MAX

QUERY_MAX = 2000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(value: str | None) -> str | None:
    """Text as typed, less control characters (which no field needs and some databases refuse)."""
    return _CONTROL.sub("", value) if isinstance(value, str) else value


def _length(label: str, maximum: int) -> Length:
    return Length(max=maximum, message=f"{label}: at most {maximum} characters (this has %(length)d).")


def _required(label: str) -> DataRequired:
    return DataRequired(message=f"{label}: please fill this in.")


class SignInForm(FlaskForm):
    email = EmailField("E-mail", filters=[clean], validators=[_required("E-mail"), _length("E-mail", EMAIL_MAX)])
    password = PasswordField("Password", validators=[_required("Password"), _length("Password", 1024)])
    next = HiddenField(filters=[clean])


class DescribeForm(FlaskForm):
    """Contact support, step 1: what is wrong (both fields optional, to reach the ticket form in one click)."""

    subject = StringField("Subject", filters=[clean], validators=[_length("Subject", SUBJECT_MAX)])
    description = TextAreaField("Describe the problem", filters=[clean],
                                validators=[_length("Description", DESCRIPTION_MAX)])


class TicketForm(FlaskForm):
    subject = StringField("Subject", filters=[clean],
                          validators=[_required("Subject"), _length("Subject", SUBJECT_MAX)])
    description = TextAreaField("Describe the problem", filters=[clean],
                                validators=[_required("Description"), _length("Description", DESCRIPTION_MAX)])
    category = SelectField("Category", validate_choice=True, choices=[])
    searched = HiddenField(filters=[clean], validators=[_length("Search", QUERY_MAX)])


class ReplyForm(FlaskForm):
    body = TextAreaField("Your reply", filters=[clean], validators=[_required("Reply"), _length("Reply", DESCRIPTION_MAX)])


class SolvedForm(FlaskForm):
    article_id = HiddenField(validators=[_required("Article"), Length(max=200)])
    query = HiddenField(filters=[clean], validators=[_length("Search", QUERY_MAX)])


class ActionForm(FlaskForm):
    """A button-only form (sign out, a vote): nothing but its CSRF token."""


class ComposerForm(FlaskForm):
    """The desk's reply composer: one form for searching the knowledge base, inserting links and sending."""

    body = TextAreaField("Reply to the customer", filters=[clean], validators=[_length("Reply", DESCRIPTION_MAX)])
    kb = StringField("Search the knowledge base", filters=[clean], validators=[_length("Search", QUERY_MAX)])
    with_summary = BooleanField("Insert the article's first paragraph too")
    status = SelectField("Then set the status", validate_choice=True, choices=[], default="", id="reply-status")


class StatusForm(FlaskForm):
    status = SelectField("Status", validate_choice=True, choices=[], id="new-status")


class CategoryForm(FlaskForm):
    category = SelectField("Category", validate_choice=True, choices=[], id="new-category")


class AgentForm(FlaskForm):
    email = EmailField("E-mail", filters=[clean], validators=[_required("E-mail"), _length("E-mail", EMAIL_MAX)])
    name = StringField("Name", filters=[clean], validators=[_length("Name", NAME_MAX)])
    role = SelectField("Role", choices=list(STAFF_ROLES), validate_choice=True)
    group = StringField("Agent group", filters=[clean], validators=[_length("Agent group", GROUP_MAX)])
    password = PasswordField("Password", validators=[_required("Password"), _length("Password", 1024)])


class OrganisationForm(FlaskForm):
    name = StringField("Organisation name", filters=[clean],
                       validators=[_required("Organisation name"), _length("Organisation name", NAME_MAX)])
