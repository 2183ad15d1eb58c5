"""The security headers every response carries: a Content-Security-Policy that runs only the app's own script
files (no inline script, no plugins, no framing), `nosniff`, a referrer policy and `X-Frame-Options`.

A view that set a header already keeps its own value: attachments and article files send a stricter, sandboxed
policy (web/attachments.py, web/article_files.py), and the pages reached by a link with a token send
`Referrer-Policy: no-referrer` (web/account.py, web/account_tokens.py).
"""
from __future__ import annotations

from werkzeug.wrappers import Response

# Scripts and styles come from /static only (templates carry neither <script> blocks, event-handler attributes nor
# style attributes); images may also come from https (an article may show one hosted elsewhere); fetches,
# forms and everything else stay on this site.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' https:",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
    "form-action 'self'",
))

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


# Directives that do not fall back to default-src: added to a view's own policy when it leaves them out.
_NO_FALLBACK = ("base-uri 'self'", "frame-ancestors 'none'", "form-action 'self'")


def add_security_headers(response: Response) -> Response:
    """An `after_request` hook: each of HEADERS that the view did not set itself; a view's own (stricter) policy
    is kept, completed with the directives of _NO_FALLBACK it does not name."""
    own = response.headers.get("Content-Security-Policy")
    if own:
        named = {part.split()[0].lower() for part in own.split(";") if part.strip()}
        missing = [directive for directive in _NO_FALLBACK if directive.split()[0] not in named]
        if missing:
            response.headers["Content-Security-Policy"] = "; ".join([own.rstrip("; ")] + missing)
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response
