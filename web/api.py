"""The JSON API for other channels: search, suggestions, tickets. Same rules as the pages."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request

from kb.accounts import can_see_ticket
from kb.errors import TicketError
from kb.tickets import find_ticket, ticket_dict, tickets_for
from web.context import current_user, db
from web.forms import QUERY_MAX, clean
from web.i18n import current_language
from web.suggestions import file_ticket, suggest

bp = Blueprint("api", __name__, url_prefix="/api")
MAX_K = 50


def _customer():
    """The signed-in customer, or the error to answer: 401 when nobody is signed in, 403 for staff."""
    user = current_user()
    if user is None:
        return None, _error(401, "sign in first")
    if user.is_staff:
        return None, _error(403, "staff accounts work on tickets in the agent desk (/desk)")
    return user, None


def _error(status: int, message: str, field: str | None = None):
    body = {"error": message}
    if field:
        body["field"] = field
    return jsonify(body), status


@bp.get("/search")
def search():
    try:
        k = min(MAX_K, max(1, int(request.args.get("k", "10"))))
    except ValueError:
        return _error(400, "k must be a whole number", "k")
    response = current_app.extensions["kb.search"].search(request.args.get("q", ""), k=k, lang=current_language())
    return jsonify(response.to_dict())


@bp.get("/suggest")
def suggest_api():
    """At most three confident suggestions for what the customer typed, and the predicted category."""
    return jsonify(suggest(request.args.get("q", "")[:QUERY_MAX]).to_dict())


@bp.get("/tickets")
def list_tickets():
    user, refused = _customer()
    if refused:
        return refused
    return jsonify(tickets=[{"ref": t.ref, "subject": t.subject, "status": t.status,
                             "created_at": t.created_at.isoformat(timespec="seconds") + "Z"}
                            for t in tickets_for(db(), user)])


@bp.post("/tickets")
def create_ticket_api():
    user, refused = _customer()
    if refused:
        return refused
    if not request.is_json:
        return _error(415, "send the ticket as JSON (Content-Type: application/json)")
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        return _error(400, "the body must be a JSON object")
    fields = {}
    for name in ("subject", "description", "category", "searched"):
        value = data.get(name, "")
        if not isinstance(value, str):
            return _error(400, f"{name} must be a string", name)
        fields[name] = clean(value)
    for name in ("subject", "description"):
        if not fields[name].strip():
            return _error(400, f"{name}: please fill this in", name)
    if fields["category"] and fields["category"] not in current_app.extensions["kb.search"].categories:
        return _error(400, f"category: unknown category {fields['category'][:64]!r}", "category")
    try:
        ticket = file_ticket(user, fields["subject"], fields["description"], fields["category"],
                             fields["searched"][:QUERY_MAX])
    except TicketError as exc:
        db().rollback()
        field = str(exc).split(" ", 1)[0]
        return _error(400, str(exc), field)
    db().commit()
    return jsonify(ticket_dict(ticket)), 201


@bp.get("/tickets/<ref>")
def get_ticket(ref: str):
    user, refused = _customer()
    if refused:
        return refused
    ticket = find_ticket(db(), ref) if len(ref) <= 16 else None
    if ticket is None or not can_see_ticket(user, ticket):
        abort(404)
    return jsonify(ticket_dict(ticket))
