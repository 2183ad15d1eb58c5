"""Secret key, cookie flags, CSRF protection (Flask-WTF), the security headers of every response
(web/security_headers.py) and the rate limiter (Flask-Limiter) of one app."""
from __future__ import annotations

import ipaddress

from flask import Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from limits.errors import ConfigurationError
from werkzeug.middleware.proxy_fix import ProxyFix

from kb.config import Settings
from kb.errors import ConfigError
from kb.secret_key import secret_key
from web.security_headers import add_security_headers


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def cookies_secure(settings: Settings) -> bool:
    """Whether cookies are Secure when the request's scheme does not decide it (no trusted proxy)."""
    if settings.cookie_secure == "auto":
        return not is_loopback(settings.host)
    return settings.cookie_secure == "always"


def request_cookies_secure() -> bool:
    """Whether a cookie set by this response gets the Secure flag.

    With `cookie_secure=auto` behind trusted proxies, that is whether the customer's request came over HTTPS
    (the proxy's X-Forwarded-Proto): a TLS proxy on loopback makes `host` say nothing about it.
    """
    if current_app.config["KB_COOKIE_SECURE_FROM_SCHEME"] and has_request_context():
        return request.is_secure
    return current_app.config["KB_COOKIE_SECURE"]


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session (and the CSRF token in it), Secure as `request_cookies_secure` says."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return request_cookies_secure()


def init_app(app: Flask, settings: Settings) -> None:
    """Secret key, cookie flags, trusted proxies, CSRF protection, security headers and the rate limiter, from
    validated settings."""
    secure = cookies_secure(settings)
    if settings.proxy_hops:  # only then are X-Forwarded-* headers believed: any client can send them
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME="kb_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        KB_COOKIE_SECURE=secure,
        KB_COOKIE_SECURE_FROM_SCHEME=settings.cookie_secure == "auto" and settings.proxy_hops > 0,
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    app.session_interface = _SessionInterface()
    csrf = CSRFProtect(app)
    app.extensions["kb.csrf"] = csrf
    app.after_request(add_security_headers)
    from web.rate_counters import storage_uri
    from web.rate_limits import client_address

    # A storage outage must not turn every limited page into an error: counting falls back to this process.
    try:
        limiter = Limiter(client_address, app=app, storage_uri=storage_uri(settings.rate_limit_storage),
                          default_limits=[], headers_enabled=True, strategy="moving-window",
                          in_memory_fallback_enabled=True, swallow_errors=True)
    except ConfigurationError as exc:
        raise ConfigError(f"setting 'rate_limit_storage': {settings.rate_limit_storage!r} cannot be used: {exc}") \
            from None
    app.extensions["kb.limiter"] = limiter


def apply_rate_limits(app: Flask, settings: Settings) -> None:
    """Wrap the limited views of this app (each app has its own limiter and counters)."""
    from web.rate_limits import limit_views

    limit_views(app, settings)
