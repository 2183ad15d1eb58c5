"""The forms of self-service accounts (Flask-WTF, each with its CSRF token); errors name their field."""
from __future__ import annotations

from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import ValidationError

from kb.errors import AccountError
from kb.helpdesk.accounts import MAX_PASSWORD, MIN_PASSWORD, check_email
from kb.helpdesk.models import EMAIL_MAX, NAME_MAX
from web.forms import TicketForm, _length, _required, clean

class _EmailShape:
    def __init__(self, label) -> None:
        self.label = label

    def __call__(self, form, field) -> None:
        try:
            check_email(field.data or "")
        except AccountError:
            raise ValidationError(_("%(field)s: this is not an e-mail address.", field=self.label)) from None


def _email(label=_l("E-mail")) -> EmailField:
    return EmailField(label, filters=[clean], validators=[_required(label), _length(label, EMAIL_MAX),
                                                          _EmailShape(label)])


class _NewPassword:
    """At least MIN_PASSWORD characters; the message names the field."""

    def __init__(self, label) -> None:
        self.label = label

    def __call__(self, form, field) -> None:
        if field.data and len(field.data) < MIN_PASSWORD:
            raise ValidationError(_("%(field)s: at least %(min)d characters.", field=self.label, min=MIN_PASSWORD))


class _SameAs:
    def __init__(self, other: str, label) -> None:
        self.other, self.label = other, label

    def __call__(self, form, field) -> None:
        if field.data != form[self.other].data:
            raise ValidationError(_("%(field)s: the two passwords differ.", field=self.label))


def _new_password(label=_l("New password")) -> PasswordField:
    return PasswordField(label, validators=[_required(label), _length(label, MAX_PASSWORD), _NewPassword(label)])


def _repeat(label=_l("New password again")) -> PasswordField:
    return PasswordField(label, validators=[_required(label), _length(label, MAX_PASSWORD),
                                            _SameAs("password", label)])


class AddressForm(FlaskForm):
    """One address: "forgot password", sign-up, an invitation."""

    email = _email()


class NewPasswordForm(FlaskForm):
    """A reset link's page: the new password, twice."""

    password = _new_password()
    confirm = _repeat()


class NewAccountForm(FlaskForm):
    """An invitation's or sign-up link's page: name and password."""

    name = StringField(_l("Your name"), filters=[clean],
                       validators=[_required(_l("Your name")), _length(_l("Your name"), NAME_MAX)])
    password = _new_password(_l("Password"))
    confirm = _repeat(_l("Password again"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[_required(_l("Current password")),
                                                                _length(_l("Current password"), MAX_PASSWORD)])
    password = _new_password()
    confirm = _repeat()


class ChangeEmailForm(FlaskForm):
    email = _email(_l("New e-mail"))
    current = PasswordField(_l("Current password"), validators=[_required(_l("Current password")),
                                                                _length(_l("Current password"), MAX_PASSWORD)])


class AnonymousTicketForm(TicketForm):
    """The ticket form for a visitor who is not signed in: the address the confirmation link goes to, too."""

    email = _email(_l("Your e-mail"))


class DomainForm(FlaskForm):
    """The desk admin's form: an e-mail domain for an organisation."""

    organisation = SelectField(_l("Organisation"), choices=[], validate_choice=True)
    domain = StringField(_l("Domain"), filters=[clean], validators=[_required(_l("Domain")),
                                                                    _length(_l("Domain"), EMAIL_MAX)])
    signup = BooleanField(_l("Anyone with a confirmed address there may sign up"))


class TokenForm(FlaskForm):
    """A new personal API token: what it is for, and whether it may write."""

    name = StringField(_l("What it is for"), filters=[clean], validators=[_length(_l("What it is for"), NAME_MAX)])
    scope = SelectField(_l("Scope"), validate_choice=True, choices=[
        ("read", _l("read: list and read tickets and articles")),
        ("write", _l("write: also reply to customers and change status"))])
