"""/api/v1: tickets and articles for other channels (a chat widget, a phone system, scripts), authenticated only by
a personal API token (`Authorization: Bearer kb_...`, kb/helpdesk/api_tokens.py); session cookies count for
nothing here, so no CSRF token is needed either. The token acts as its user, an agent or admin.

Endpoints are declared with `API.endpoint` (web/api_v1_spec.py): that declaration validates their input and is
what `/api/v1/openapi.json` is made of. A new ticket endpoint is a few lines: declare its body, resolve the ticket
with `_staff_ticket`, change it, answer `_ticket_json`.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from kb.config import Settings
from kb.errors import TicketError
from kb.helpdesk.access import staff_can_see, visible_tickets
from kb.helpdesk.api_tokens import authenticate_token, token_prefix
from kb.helpdesk.models import (AGENT, CATEGORY_MAX, DESCRIPTION_MAX, EVENT_ASSIGNED, GROUP_MAX, STATUS_LABELS,
                                STATUSES, Ticket, TicketEvent)
from kb.helpdesk.notes import staff_history
from kb.helpdesk.replies import clean_reply
from kb.helpdesk.tickets import add_reply, change_status, find_ticket, next_statuses, record_links
from web.api_v1_spec import Api, ApiError, Param, error, openapi_document
from web.context import db
from web.notifications import agent_replied, status_changed

PREFIX = "/api/v1"
VERSION = "1.0.0"
bp = Blueprint("api_v1", __name__, url_prefix=PREFIX)
API = Api(bp)
PUBLIC = {"api_v1.openapi"}  # the only endpoint that needs no token
REF = Param("ref", "The ticket's reference, e.g. KB-7KQ2M9XA.", max_length=16)
PAGE_MAX = 100


@bp.before_request
def authenticate():
    """The token in the Authorization header, or 401: a cookie, a session or anything else does not count."""
    if request.endpoint in PUBLIC:
        return None
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        return error(401, "send a personal API token: Authorization: Bearer <token>")
    token = authenticate_token(db(), presented.strip())
    if token is None:
        db().rollback()
        return error(401, "the token is not valid (unknown, revoked, or its user can no longer use it)")
    db().commit()  # its last use
    g.api_token, g.api_user = token, token.user
    return None


# --- what tickets look like --------------------------------------------------------------------------------------

def _iso(moment) -> str | None:
    return moment.isoformat(timespec="seconds") + "Z" if moment else None


def _person(user) -> dict[str, str] | None:
    return {"email": user.email, "name": user.name} if user is not None else None


def _summary(ticket: Ticket) -> dict[str, Any]:
    return {"ref": ticket.ref, "subject": ticket.subject, "status": ticket.status, "category": ticket.category,
            "agent_group": ticket.agent_group, "owner": _person(ticket.owner), "priority": ticket.priority,
            "sla_due_at": _iso(ticket.sla_due_at), "customer": _person(ticket.customer),
            "organisation": ticket.organisation.name if ticket.organisation else None,
            "created_at": _iso(ticket.created_at), "updated_at": _iso(ticket.updated_at),
            "last_customer_at": _iso(ticket.last_customer_at)}


def _event_json(event: TicketEvent) -> dict[str, Any]:
    """An event of the history; kinds `note`, `priority` and `assigned` (with the owners before and after) are
    staff-only."""
    out = {"id": event.id, "kind": event.kind, "author_kind": event.author_kind, "author": _person(event.author),
           "body": event.body, "status_from": event.status_from, "status_to": event.status_to,
           "created_at": _iso(event.created_at)}
    if event.kind == EVENT_ASSIGNED:
        out.update(owner_from=_person(event.owner_from), owner_to=_person(event.owner_to))
    return out


def _ticket_json(ticket: Ticket) -> dict[str, Any]:
    """A ticket as staff see it: with its whole history, internal notes included, and its SLA due times."""
    return {**_summary(ticket), "description": ticket.description, "predicted_category": ticket.predicted_category,
            "predicted_priority": ticket.predicted_priority,
            "first_response_due": _iso(ticket.first_response_due), "resolution_due": _iso(ticket.resolution_due),
            "status_label": STATUS_LABELS.get(ticket.status, ticket.status),
            "next_statuses": list(next_statuses(ticket.status)),
            "events": [_event_json(e) for e in staff_history(db(), ticket)]}


def _staff_ticket(ref: str) -> Ticket:
    """The ticket `ref` names, if the token's user may work it (`desk_restrict_to_groups`: kb/helpdesk/access.py),
    or 404 as if it did not exist."""
    found = find_ticket(db(), ref)
    if found is None or not staff_can_see(current_app.config["KB_SETTINGS"], g.api_user, found):
        raise ApiError(404, f"there is no ticket {ref[:16]}")
    return found


# --- tickets -----------------------------------------------------------------------------------------------------

@API.endpoint("GET", "/tickets", "List tickets, newest first; `next_cursor` fetches the next page.", "read",
              "TicketPage", query=(
                  Param("status", "Only tickets in this status.", enum=STATUSES),
                  Param("category", "Only tickets of this category.", max_length=CATEGORY_MAX),
                  Param("group", "Only tickets routed to this agent group.", max_length=GROUP_MAX),
                  Param("cursor", "The `next_cursor` of the previous page.", max_length=12),
                  Param("limit", "Tickets per page.", type="integer", minimum=1, maximum=PAGE_MAX, default=25)))
def list_tickets(data: dict[str, Any]):
    conditions = [getattr(Ticket, column) == data[name] for name, column in
                  (("status", "status"), ("category", "category"), ("group", "agent_group")) if data[name]]
    conditions += visible_tickets(current_app.config["KB_SETTINGS"], g.api_user)
    if data["cursor"] is not None:
        if not data["cursor"].isdigit():
            raise ApiError(400, "cursor: not a cursor this API gave", "cursor")
        conditions.append(Ticket.id < int(data["cursor"]))
    rows = list(db().scalars(select(Ticket).where(*conditions).order_by(Ticket.id.desc()).limit(data["limit"] + 1)
                             .options(selectinload(Ticket.customer), selectinload(Ticket.organisation),
                                      selectinload(Ticket.owner))))
    more = len(rows) > data["limit"]
    rows = rows[:data["limit"]]
    return jsonify(tickets=[_summary(t) for t in rows], next_cursor=str(rows[-1].id) if more else None)


@API.endpoint("GET", "/tickets/<ref>", "A ticket with its whole history.", "read", "Ticket",
              path_params=(REF,), errors=(404,))
def get_ticket(ref: str, data: dict[str, Any]):
    return jsonify(_ticket_json(_staff_ticket(ref)))


@API.endpoint("POST", "/tickets/<ref>/reply", "Reply to the customer (they see it and are e-mailed), and "
              "optionally move the ticket to another status at the same time.", "write", "Reply", status=201,
              path_params=(REF,), errors=(404, 409), body=(
                  Param("body", "The reply, as Markdown. Links to internal articles are taken out.", required=True,
                        max_length=DESCRIPTION_MAX),
                  Param("status", "Move the ticket to this status too (one of its `next_statuses`).",
                        enum=STATUSES)))
def reply(ref: str, data: dict[str, Any]):
    ticket = _staff_ticket(ref)
    if data["status"] and data["status"] not in next_statuses(ticket.status):
        raise ApiError(409, f"a ticket that is {ticket.status} cannot move to {data['status']}", "status")
    agent = g.api_user
    articles = current_app.extensions["kb.search"].articles
    cleaned = clean_reply(data["body"], {i: a.audience for i, a in articles.items()})
    if not cleaned.body.strip():
        raise ApiError(422, "body: nothing is left once links to internal articles are taken out", "body")
    event = add_reply(db(), ticket, agent, cleaned.body, author_kind=AGENT)
    record_links(db(), ticket, event, cleaned.linked, agent)
    moved = change_status(db(), ticket, data["status"], agent) if data["status"] else None
    agent_replied(db(), ticket, event, moved)
    db().commit()
    return jsonify(event=_event_json(event), ticket=_ticket_json(ticket)), 201


@API.endpoint("POST", "/tickets/<ref>/status", "Move the ticket to another status (the customer is told).",
              "write", "Ticket", path_params=(REF,), errors=(404, 409), body=(
                  Param("status", "The new status: one of the ticket's `next_statuses`.", required=True,
                        enum=STATUSES),))
def set_status(ref: str, data: dict[str, Any]):
    ticket = _staff_ticket(ref)
    try:
        event = change_status(db(), ticket, data["status"], g.api_user)
    except TicketError as exc:
        db().rollback()
        raise ApiError(409, str(exc), "status") from None
    status_changed(db(), ticket, event)
    db().commit()
    return jsonify(_ticket_json(ticket))


@API.endpoint("GET", "/openapi.json", "This API described as OpenAPI 3.1 (needs no token).", None, "OpenApi")
def openapi(data: dict[str, Any]):
    return jsonify(openapi_document(API, PREFIX, VERSION))


def _rate_key() -> str:
    """Requests are counted per token (by its public prefix); ones without a token-like header per address."""
    from web.rate_limits import client_address

    _, _, presented = request.headers.get("Authorization", "").partition(" ")
    prefix = token_prefix(presented.strip())
    return f"api-token:{prefix}" if prefix else f"ip:{client_address()}"


def init_app(app: Flask, settings: Settings) -> None:
    """No CSRF tokens (no cookies count here) and the per-token rate limit (`rate_limit_api`)."""
    app.extensions["kb.csrf"].exempt(bp)
    app.extensions["kb.limiter"].limit(settings.rate_limit_api, key_func=_rate_key)(bp)


from web import api_v1_articles  # noqa: E402,F401  (the article and search endpoints, declared on API)
from web import api_v1_desk  # noqa: E402,F401  (notes, owners and priorities, declared on API)
