"""Error pages (and JSON errors under /api/): a clear message and the right status, never a traceback."""
from __future__ import annotations

from flask import Blueprint, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from kb.errors import KbError

bp = Blueprint("errors", __name__)

MESSAGES = {
    400: ("Something in the request is not right", "Go back, check what you entered and try again."),
    404: ("Page not found", "There is no page at this address."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("Too much text", "What you sent is too large. Shorten it and try again."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: ("Something went wrong", "We could not complete your request. Please try again in a moment."),
}


def _respond(status: int, message: str | None = None):
    title, default = MESSAGES.get(status, (f"Error {status}", "The request could not be completed."))
    text = message or default
    if request.path.startswith("/api/"):
        return jsonify(error=text), status
    return render_template("error.html", title=title, message=text), status


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    return _respond(400, "This form has expired or did not come from this site. Reload the page and try again.")


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    status = error.code or 500
    if status == 429:
        return _respond(429, f"Too many requests (limit: {error.description}). Please wait a moment and try again.")
    described = error.description if status == 400 and error.description and "browser" not in error.description \
        else None
    return _respond(status, described)


@bp.app_errorhandler(KbError)
def domain_error(error: KbError):
    return _respond(400, str(error))


@bp.app_errorhandler(InternalServerError)
def server_error(_error):
    return _respond(500)
