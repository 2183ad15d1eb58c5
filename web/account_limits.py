"""Rate limits of self-service accounts (added to web/rate_limits.py's): mail asked for, per client (or signed-in
user) and per address asked about, whether or not it has an account; links used, per client; wrong current
passwords, per user."""
from __future__ import annotations

import hashlib

from flask import Response, request

from web.rate_limits import Rule, _user_or_address, client_address


def _asked_address() -> str:
    """The address a request asks mail for (hashed: counters never hold e-mail addresses)."""
    email = (request.form.get("email", "") or "").strip().lower()[:320]
    return "mail-to:" + hashlib.sha256(email.encode("utf-8", "replace")).hexdigest()[:32]


def _signed_in() -> bool:
    from web.context import current_user

    return current_user() is not None


def _wrong_password(response: Response) -> bool:
    return response.status_code == 401


_MAIL: list[Rule] = [("rate_limit_account_mail", _user_or_address, ["POST"], "account-mail", {}),
                     ("rate_limit_account_mail_address", _asked_address, ["POST"], "account-mail-address", {})]
_LINKS: list[Rule] = [("rate_limit_account_links", client_address, None, "account-links", {})]
_PASSWORD: list[Rule] = [("rate_limit_account_links", _user_or_address, ["POST"], "account-password",
                          {"deduct_when": _wrong_password})]


def account_rules() -> dict[str, list[Rule]]:
    """endpoint -> its limits."""
    visitors_only = [(name, key, methods, scope, {"exempt_when": _signed_in}) for name, key, methods, scope, _ in _MAIL]
    return {
        "account.forgot_password": _MAIL,
        "join.sign_up": _MAIL,
        "join.send_invitation": _MAIL,
        "account.change_email": _MAIL + _PASSWORD,
        "account.change_password": _PASSWORD,
        "support.new_ticket": visitors_only,
        "account.reset_password": _LINKS,
        "account.confirm_email": _LINKS,
        "join.accept_invitation": _LINKS,
        "join.complete_signup": _LINKS,
        "requests.confirm_request": _LINKS,
    }
