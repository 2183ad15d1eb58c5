"""Secret key, cookie flags, CSRF protection (Flask-WTF) and the rate limiter (Flask-Limiter) of one app."""
from __future__ import annotations

import ipaddress
import os
import secrets
import stat
import tempfile
from pathlib import Path

from flask import Flask, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFProtect
from limits.errors import ConfigurationError
from werkzeug.middleware.proxy_fix import ProxyFix

from kb.config import MIN_KEY_CHARS, Settings
from kb.errors import ConfigError


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept in `secret_key_file` (readable by its owner only).

    Refuses an empty or short key file, and one that other users may read, with a ConfigError naming the file
    (a configured key that is too short is refused with the other settings, by `kb.config.validate_settings`).
    """
    if settings.secret_key:
        return settings.secret_key.strip()
    path = Path(settings.secret_key_file)
    key = _read_key_file(path)
    return key if key is not None else _create_key_file(path)


def _read_key_file(path: Path) -> str | None:
    """The key kept in `path`, None when there is no such file."""
    try:
        with open(path, "rb") as fh:
            mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
            if mode & 0o077 and os.name == "posix":
                raise ConfigError(f"{path}: permissions {mode:04o} are too open: the secret key file must be readable "
                                  f"by its owner only; run `chmod 600 {path}` (setting 'secret_key_file')")
            data = fh.read(4096)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the secret key file: {exc.strerror} "
                          f"(setting 'secret_key_file')") from None
    try:
        key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        key = ""
    if len(key) < MIN_KEY_CHARS:
        what = "is empty" if not key else f"holds a key too short to be safe ({len(key)} characters; at least " \
                                          f"{MIN_KEY_CHARS})"
        raise ConfigError(f"{path}: the secret key file {what}; delete it to have a new key generated (signed-in "
                          f"visitors are signed out) or write a longer key into it (setting 'secret_key_file')")
    return key


def _create_key_file(path: Path) -> str:
    """Generate a key into `path`, or read the one another process put there first.

    The key is written to a temporary file and synced, then hard-linked into place: a reader sees either no file
    or the whole key, and of processes starting together the first link wins and the others read its key.
    """
    key = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the secret key file: {exc.strerror} "
                          f"(setting 'secret_key_file')") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:  # another process was first: use its key
            theirs = _read_key_file(path)
            if theirs is None:  # removed again in between: try once more from scratch
                return _create_key_file(path)
            return theirs
        except OSError as exc:
            raise ConfigError(f"{path}: cannot create the secret key file: {exc.strerror}; set 'secret_key' "
                              f"instead (setting 'secret_key_file')") from None
    finally:
        os.unlink(temp)
    return key


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
    """Secret key, cookie flags, trusted proxies, CSRF protection and the rate limiter, from validated settings."""
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
    from web.rate_limits import client_address

    # A storage outage must not turn every limited page into an error: counting falls back to this process.
    try:
        limiter = Limiter(client_address, app=app, storage_uri=settings.rate_limit_storage, default_limits=[],
                          headers_enabled=True, strategy="moving-window", in_memory_fallback_enabled=True,
                          swallow_errors=True)
    except ConfigurationError as exc:
        raise ConfigError(f"setting 'rate_limit_storage': {settings.rate_limit_storage!r} cannot be used: {exc}") \
            from None
    app.extensions["kb.limiter"] = limiter


def apply_rate_limits(app: Flask, settings: Settings) -> None:
    """Wrap the limited views of this app (each app has its own limiter and counters)."""
    from web.rate_limits import limit_views

    limit_views(app, settings)
