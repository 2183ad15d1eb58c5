"""Rate limits of the portal's public routes (Flask-Limiter), and whom each one counts.

Anonymous requests are counted per client address (an IPv6 address by its /64 network, what one customer is
usually given); a signed-in customer's by account, so that colleagues behind one office address do not share a
budget. Sign-in counts failed attempts only, three ways: per client and account, per account, and per address
over all accounts. A browser that signed in to an account before carries a signed "known device" cookie; its
attempts on that account are counted per device and escape the per-account and per-address limits, so neither
someone hammering an account nor a crowd sharing one address (a proxy whose hops are not configured) locks the
account's owner out of their usual browser.
"""
from __future__ import annotations

import hashlib
import ipaddress
import logging
import secrets
from typing import Callable

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from itsdangerous import BadSignature, Signer
from limits import parse as parse_limit

from kb.helpdesk.accounts import normalise_email
from kb.config import Settings

KNOWN_DEVICE_COOKIE = "kb_known"
KNOWN_DEVICE_DAYS = 365
log = logging.getLogger(__name__)


def client_address() -> str:
    """The client's address as rate limits count it (behind `proxy_hops` proxies, the forwarded one)."""
    address = request.remote_addr or "unknown"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _user_or_address() -> str:
    from web.context import current_user

    user = current_user()
    return f"user:{user.id}" if user is not None else f"ip:{client_address()}"


# --- new visitor ids -------------------------------------------------------------------------------------------

def may_issue_visitor_id() -> bool:
    """Whether this client address may be given one more visitor id this hour (`rate_limit_new_visitors`);
    counts the id when so. A client minting fresh cookies counts as at most that many visitors."""
    limiter: Limiter = current_app.extensions["kb.limiter"]
    try:
        return limiter.limiter.hit(current_app.extensions["kb.new_visitor_limit"], "new-visitor", client_address())
    except Exception:  # noqa: BLE001 - each storage raises its own errors; an outage must not break pages
        log.warning("rate limit storage unreachable: a visitor id was issued uncounted", exc_info=True)
        return True


# --- sign-in ---------------------------------------------------------------------------------------------------

def _account() -> str:
    """The account a sign-in attempt names (hashed: counters never hold e-mail addresses); worked out once per
    request, though each of the three sign-in limits and the known-device cookie ask for it."""
    if "kb_sign_in_account" not in g:
        email = normalise_email(request.form.get("email", ""))[:320]
        g.kb_sign_in_account = hashlib.sha256(email.encode("utf-8")).hexdigest()[:32]
    return g.kb_sign_in_account


def _device_signer() -> Signer:
    return Signer(current_app.secret_key, salt="kb.known-device")


def _known_device() -> str | None:
    """The device id of this browser's known-device cookie when it is for the account being signed in to (the
    cookie's signature is checked once per request)."""
    if "kb_known_device" not in g:
        g.kb_known_device = _device_for_account()
    return g.kb_known_device


def _device_for_account() -> str | None:
    cookie = request.cookies.get(KNOWN_DEVICE_COOKIE, "")
    try:
        account, _sep, device = _device_signer().unsign(cookie).decode("ascii").partition(":")
    except (BadSignature, UnicodeDecodeError):
        return None
    return device if device and account == _account() else None


def _is_known_device() -> bool:
    return _known_device() is not None


def _client_and_account() -> str:
    device = _known_device()
    return f"{'device:' + device if device else 'ip:' + client_address()}|{_account()}"


def _per_account() -> str:
    return f"account:{_account()}"


def _per_address() -> str:
    return f"ip:{client_address()}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _remember_device(response: Response) -> Response:
    """After a successful sign-in, mark this browser as one that knows the account's password."""
    if request.endpoint == "auth.sign_in" and request.method == "POST" and response.status_code == 302:
        from web.context import current_user
        from web.security import request_cookies_secure

        if current_user() is not None:
            value = _device_signer().sign(f"{_account()}:{secrets.token_urlsafe(12)}").decode("ascii")
            response.set_cookie(KNOWN_DEVICE_COOKIE, value, max_age=KNOWN_DEVICE_DAYS * 24 * 3600, httponly=True,
                                samesite="Lax", secure=request_cookies_secure(), path="/sign-in")
    return response


# --- the routes ------------------------------------------------------------------------------------------------

def _no_query() -> bool:
    return not request.args.get("q", "").strip()


# A limit on a view: (setting, whom it counts, methods (None: all), scope shared with other views, options).
Rule = tuple[str, Callable[[], str], list[str] | None, str | None, dict]
_FAILED_ONLY = {"deduct_when": _failed}
_UNLESS_KNOWN = {"deduct_when": _failed, "exempt_when": _is_known_device}


def limit_views(app: Flask, settings: Settings) -> None:
    """Wrap the limited views of this app (each app has its own limiter and counters)."""
    from web import api

    limiter: Limiter = app.extensions["kb.limiter"]
    # JSON only: POSTs must be application/json, which a cross-site form cannot send.
    app.extensions["kb.csrf"].exempt(api.bp)
    # The limit strings were validated with the other settings (kb.config): parsing them cannot fail here.
    app.extensions["kb.new_visitor_limit"] = parse_limit(settings.rate_limit_new_visitors)
    rules: dict[str, list[Rule]] = {
        "auth.sign_in": [("rate_limit_sign_in", _client_and_account, ["POST"], None, _FAILED_ONLY),
                         ("rate_limit_sign_in_account", _per_account, ["POST"], None, _UNLESS_KNOWN),
                         ("rate_limit_sign_in_address", _per_address, ["POST"], None, _UNLESS_KNOWN)],
        "support.new_ticket": [("rate_limit_tickets", _user_or_address, ["POST"], "tickets", {})],
        "api.create_ticket_api": [("rate_limit_tickets", _user_or_address, ["POST"], "tickets", {})],
        "api.suggest_api": [("rate_limit_suggest", client_address, None, "suggest", {})],
        "community.suggest": [("rate_limit_suggest", client_address, None, "suggest", {})],
        "support.contact": [("rate_limit_suggest", client_address, ["POST"], "suggest", {})],
        "portal.search": [("rate_limit_search", _user_or_address, None, "search", {})],
        "portal.home": [("rate_limit_search", _user_or_address, None, "search", {"exempt_when": _no_query})],
        "api.search": [("rate_limit_search", _user_or_address, None, "search", {})],
        "portal.article": [("rate_limit_views", _user_or_address, None, "views", {})],
        "portal.history": [("rate_limit_views", _user_or_address, None, "views", {})],
        "portal.vote": [("rate_limit_votes", _user_or_address, ["POST"], "votes", {})],
        "support.solved": [("rate_limit_votes", _user_or_address, ["POST"], "votes", {})],
        "support.reply": [("rate_limit_replies", _user_or_address, ["POST"], None, {})],
    }
    from web.account_limits import account_rules
    from web.community import POSTING_ENDPOINTS, READING_ENDPOINTS

    for endpoint in POSTING_ENDPOINTS:
        rules[endpoint] = [("rate_limit_community_posts", _user_or_address, ["POST"], "community-posts", {})]
    for endpoint in READING_ENDPOINTS:
        rules[endpoint] = [("rate_limit_views", _user_or_address, None, "views", {})]

    for endpoint, extra in account_rules().items():
        rules[endpoint] = rules.get(endpoint, []) + extra
    for endpoint, endpoint_rules in rules.items():
        view = app.view_functions[endpoint]
        for name, key, methods, scope, options in endpoint_rules:
            limit = getattr(settings, name)
            decorate = (limiter.shared_limit(limit, scope=scope, key_func=key, methods=methods, **options)
                        if scope else limiter.limit(limit, key_func=key, methods=methods, **options))
            view = decorate(view)
        app.view_functions[endpoint] = view
    app.after_request(_remember_device)
