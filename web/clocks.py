"""The SLA rules of the running app, and how the desk writes a clock ("2 h 10 min left", "breached 35 min ago") and
why a priority was predicted."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _, lazy_gettext as _l

from kb.helpdesk.priority import Prediction
from kb.helpdesk.sla import BREACHED, LATE, MET, RUNNING, STOPPED, ClockState
from kb.helpdesk.ticket_sla import SlaRules


def sla_rules() -> SlaRules:
    """Parsed once per app from its (validated) settings."""
    rules = current_app.extensions.get("kb.sla")
    if rules is None:
        rules = current_app.extensions["kb.sla"] = SlaRules.from_settings(current_app.config["KB_SETTINGS"])
    return rules


def span_text(span: timedelta) -> str:
    """A duration in at most two units: "3 d 4 h", "2 h 10 min", "35 min" (under a minute: "0 min")."""
    minutes = max(0, int(span.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    if hours:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    return _("%(minutes)d min", minutes=minutes)


def clock_text(clock: ClockState) -> str:
    """What a clock says, compact; "" when there is no target."""
    span = span_text(clock.span)
    if clock.state == RUNNING:
        return _("%(span)s left", span=span)
    if clock.state == BREACHED:
        return _("breached %(span)s ago", span=span)
    if clock.state == MET:
        return _("met")
    if clock.state == LATE:
        return _("met %(span)s late", span=span)
    if clock.state == STOPPED:
        return _("not met, stopped %(span)s after the target", span=span) if clock.breached else _("stopped")
    return ""


_RULES = {"security": _l("security words"), "outage": _l("outage words"), "everyone": _l("words for everyone"),
          "request": _l("request words"), "category": _l("category default"), "default": _l("default priority")}


def reasons_text(prediction: Prediction) -> str:
    """The rules that predicted a priority and what they matched: "outage words: “down”; words for everyone: …"."""
    return "; ".join(f"{_RULES.get(rule, rule)}: “{found}”" for rule, found in prediction.reasons)
