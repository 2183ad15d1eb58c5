"""/api/v1's desk work on a ticket (declared on web/api_v1.py's API): an internal note, a new owner, a new
priority. Each is what the desk does with the same request, as the token's user, and answers the ticket as staff
see it."""
from __future__ import annotations

from typing import Any

from flask import g, jsonify

from kb.errors import TicketError
from kb.helpdesk.accounts import find_user
from kb.helpdesk.models import DESCRIPTION_MAX, EMAIL_MAX
from kb.helpdesk.notes import add_note
from kb.helpdesk.ownership import assign
from kb.helpdesk.sla import PRIORITIES
from kb.helpdesk.ticket_sla import change_priority
from web.api_v1 import API, REF, _event_json, _staff_ticket, _ticket_json
from web.api_v1_spec import ApiError, Param
from web.clocks import sla_rules
from web.context import db


@API.endpoint("POST", "/tickets/<ref>/note", "Add an internal note: staff see it in the history; the customer never "
              "does, and nobody is e-mailed.", "write", "Reply", status=201, path_params=(REF,), errors=(404,),
              body=(Param("body", "The note, as plain text.", required=True, max_length=DESCRIPTION_MAX),))
def note(ref: str, data: dict[str, Any]):
    ticket = _staff_ticket(ref)
    try:
        event = add_note(db(), ticket, g.api_user, data["body"])
    except TicketError as exc:
        db().rollback()
        raise ApiError(422, str(exc), "body") from None
    db().commit()
    return jsonify(event=_event_json(event), ticket=_ticket_json(ticket)), 201


@API.endpoint("POST", "/tickets/<ref>/owner", "Give the ticket to an agent or admin (by e-mail address), or to nobody "
              "with an empty `owner`.", "write", "Ticket", path_params=(REF,), errors=(404, 422), body=(
                  Param("owner", "The new owner's e-mail address; empty: unassigned.", required=False,
                        max_length=EMAIL_MAX, default=""),))
def owner(ref: str, data: dict[str, Any]):
    ticket = _staff_ticket(ref)
    address = (data["owner"] or "").strip()
    person = find_user(db(), address) if address else None
    if address and person is None:
        raise ApiError(422, f"owner: there is no user {address}", "owner")
    try:
        assign(db(), ticket, person, g.api_user)
    except TicketError as exc:
        db().rollback()
        raise ApiError(422, str(exc), "owner") from None
    db().commit()
    return jsonify(_ticket_json(ticket))


@API.endpoint("POST", "/tickets/<ref>/priority", "Change the ticket's priority; its SLA due times follow.", "write",
              "Ticket", path_params=(REF,), errors=(404,), body=(
                  Param("priority", "The new priority.", required=True, enum=PRIORITIES),))
def priority(ref: str, data: dict[str, Any]):
    ticket = _staff_ticket(ref)
    change_priority(db(), ticket, data["priority"], g.api_user, sla_rules())
    db().commit()
    return jsonify(_ticket_json(ticket))
