"""Error pages (and JSON errors under /api/): a clear message and the right status, never a traceback."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from kb.errors import KbError

bp = Blueprint("errors", __name__)

MESSAGES = {
    400: (_l("Something in the request is not right"), _l("Go back, check what you entered and try again.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too much text"), _l("What you sent is too large. Shorten it and try again.")),
    429: (_l("Too many requests"), _l("Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("We could not complete your request. Please try again in a moment.")),
    503: (_l("Temporarily unavailable"),
          _l("The help center cannot save or show this right now. Please try again in a minute.")),
}


def respond(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, (_("Error %(status)d", status=status),
                                           _("The request could not be completed.")))
    text = str(message or default)
    if request.path.startswith("/api/v1/"):
        from web.api_v1_spec import error

        return error(status, text)
    if request.path.startswith("/api/"):
        return jsonify(error=text), status
    return render_template("error.html", title=title, message=text), status


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    return respond(400, _("This form has expired or did not come from this site. Reload the page and try again."))


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    status = error.code or 500
    if status == 404:
        from web.article_files import alias_redirect

        moved = alias_redirect()
        if moved is not None:
            return moved
    if status == 429:
        return respond(429, _("Too many requests (limit: %(limit)s). Please wait a moment and try again.",
                               limit=error.description))
    described = error.description if status == 400 and error.description and "browser" not in error.description \
        else None
    return respond(status, described)


@bp.app_errorhandler(KbError)
def domain_error(error: KbError):
    return respond(400, str(error))


@bp.app_errorhandler(InternalServerError)
def server_error(_error):
    return respond(500)
