"""The JSON API for other channels: search, suggestions, tickets. Same rules as the pages."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request

from kb.helpdesk.accounts import can_see_ticket
from kb.errors import TicketError
from kb.helpdesk.tickets import check_idempotency_key, file_once, find_ticket, ticket_dict, tickets_for
from web.analytics import record_search, record_ticket_filed
from web.community_search import community_hits, json_results, prime
from web.context import current_user, db
from web.forms import QUERY_MAX, clean, has_surrogate
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
    query = request.args.get("q", "")
    service = current_app.extensions["kb.search"]
    prime(service, query)
    response = service.search(query, k=k, lang=current_language())
    community = community_hits(service, query, response.hits) if response.query else []
    return jsonify({**response.to_dict(), "results": json_results(response.hits, community),
                    "search": record_search("api", query, response, len(response.hits))})


@bp.get("/suggest")
def suggest_api():
    """At most three confident suggestions for what the customer typed, and the predicted category. `session`
    names the typing session (the `session` of its earlier answers), whose earlier searches this one replaces."""
    return jsonify(suggest(request.args.get("q", "")[:QUERY_MAX], session=request.args.get("session", "")).to_dict())


@bp.get("/tickets")
def list_tickets():
    user, refused = _customer()
    if refused:
        return refused
    return jsonify(tickets=[{"ref": t.ref, "subject": t.subject, "status": t.status,
                             "created_at": t.created_at.isoformat(timespec="seconds") + "Z"}
                            for t in tickets_for(db(), user)])


def _json_body() -> tuple[Any, Any]:
    """The request's JSON, or the 400 to answer: for a body that is not JSON, or nests too deeply to read."""
    try:
        return current_app.json.loads(request.get_data(cache=True)), None
    except RecursionError:
        return None, _error(400, "body: the JSON nests too deeply", "body")
    except ValueError:  # not JSON, or not UTF-8
        return None, _error(400, "body: not valid JSON", "body")


@bp.post("/tickets")
def create_ticket_api():
    """File a ticket. With an `Idempotency-Key` header, a retry with the same key answers with the ticket the
    first request filed (200, header `Idempotent-Replayed: true`) instead of filing a second one."""
    user, refused = _customer()
    if refused:
        return refused
    if not request.is_json:
        return _error(415, "send the ticket as JSON (Content-Type: application/json)")
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        try:
            check_idempotency_key(key)
        except TicketError as exc:
            return _error(400, str(exc), "Idempotency-Key")
    data, refused = _json_body()
    if refused:
        return refused
    if not isinstance(data, dict):
        return _error(400, "the body must be a JSON object")
    fields = {}
    for name in ("subject", "description", "category", "searched"):
        value = data.get(name, "")
        if not isinstance(value, str):
            return _error(400, f"{name} must be a string", name)
        if has_surrogate(value):
            return _error(400, f"{name}: holds a lone surrogate (\\ud800-\\udfff), which is not text", name)
        fields[name] = clean(value)
    for name in ("subject", "description"):
        if not fields[name].strip():
            return _error(400, f"{name}: please fill this in", name)
    if fields["category"] and fields["category"] not in current_app.extensions["kb.search"].categories:
        return _error(400, f"category: unknown category {fields['category'][:64]!r}", "category")
    try:
        ticket, created = file_once(db(), user, key, lambda: file_ticket(
            user, fields["subject"], fields["description"], fields["category"], fields["searched"][:QUERY_MAX],
            idempotency_key=key))
    except TicketError as exc:
        db().rollback()
        field = str(exc).split(" ", 1)[0]
        return _error(400, str(exc), field)
    if created:
        record_ticket_filed(ticket)
        return jsonify(ticket_dict(ticket)), 201
    if (ticket.subject, ticket.description) != (fields["subject"], fields["description"]):
        return _error(422, f"Idempotency-Key: already used for ticket {ticket.ref}, with another subject or "
                           "description; use a new key for a new ticket", "Idempotency-Key")
    return jsonify(ticket_dict(ticket)), 200, {"Idempotent-Replayed": "true"}


@bp.get("/tickets/<ref>")
def get_ticket(ref: str):
    user, refused = _customer()
    if refused:
        return refused
    ticket = find_ticket(db(), ref) if len(ref) <= 16 else None
    if ticket is None or not can_see_ticket(user, ticket):
        abort(404)
    return jsonify(ticket_dict(ticket))
