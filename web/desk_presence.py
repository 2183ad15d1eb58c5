"""The collision notice: who else has a ticket open on the desk. The ticket page's script (web/static/presence.js)
reports its agent every few seconds and shows the others it is told about; the rows live in the database
(kb/helpdesk/presence.py), so every server process answers alike."""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _

from kb.helpdesk.presence import REPLYING, VIEWING, leave, others, prune, report
from web.context import agents_only, current_user, db
from web.desk_access import visible_ticket

bp = Blueprint("presence", __name__, url_prefix="/desk")
bp.before_request(agents_only)
POLL_SECONDS = 5


def _text(name: str, state: str) -> str:
    return _("%(name)s is replying", name=name) if state == REPLYING else _("%(name)s is viewing", name=name)


@bp.post("/tickets/<ref>/presence")
def here(ref: str):
    """The signed-in agent has the ticket open (`state`: viewing or replying): who else has, as JSON."""
    found = visible_ticket(ref)
    given = request.get_json(silent=True)
    state = given.get("state") if isinstance(given, dict) else None
    user = current_user()
    prune(db())
    report(db(), found, user, state if state in (VIEWING, REPLYING) else VIEWING)
    db().commit()
    present = others(db(), found, user)
    return jsonify(others=[{"name": p.name, "state": p.state, "text": _text(p.name, p.state)} for p in present],
                   last_event=max((e.id for e in found.events), default=0), poll=POLL_SECONDS)


@bp.post("/tickets/<ref>/presence/leave")
def gone(ref: str):
    """The agent left the ticket's page (sent as the page is closed; without it their report goes stale)."""
    found = visible_ticket(ref)
    leave(db(), found, current_user())
    db().commit()
    return "", 204
