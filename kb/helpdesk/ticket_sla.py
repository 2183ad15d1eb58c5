"""A ticket's priority and SLA clocks in the database: set when it is filed, re-prioritised, answered, resolved.

The due times are stored on the ticket (computed in business time once, when filed or re-prioritised), so that the
queue sorts and filters 100,000 tickets by `sla_due_at` in the database instead of computing clocks per row.
First response: the first reply of support the customer sees (a status change alone does not count, nor does an
internal note). Resolution: the ticket's last move to resolved; reopening it restarts the same clock (the due time
stays). Time waiting on the customer is not paused.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from kb.errors import TicketError
from kb.helpdesk.models import AGENT, EVENT_PRIORITY, RESOLVED, Ticket, TicketEvent, User, utcnow
from kb.helpdesk.priority import Prediction, parse_category_priorities, predict_priority
from kb.helpdesk.sla import (ALWAYS, BREACHED, PRIORITIES, RUNNING, BusinessHours, ClockState, add_business_time,
                             clock_state, parse_business_hours, parse_priorities, parse_targets)


@dataclass(frozen=True)
class SlaRules:
    """The priority and SLA settings, parsed once (the settings were validated when loaded)."""

    first_response: dict[str, timedelta]
    resolution: dict[str, timedelta]
    hours: BusinessHours = ALWAYS
    always_on: frozenset[str] = frozenset()
    default: str = "P3"
    by_category: dict[str, str] | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> SlaRules:
        return cls(first_response=parse_targets(settings.sla_first_response),
                   resolution=parse_targets(settings.sla_resolution),
                   hours=parse_business_hours(settings.business_hours, settings.business_timezone),
                   always_on=parse_priorities(settings.sla_always_on), default=settings.priority_default,
                   by_category=parse_category_priorities(settings.priority_categories))

    def predict(self, subject: str, description: str, category: str = "") -> Prediction:
        return predict_priority(subject, description, category, self.by_category, self.default)

    def due(self, start: datetime, priority: str, targets: dict[str, timedelta]) -> datetime:
        hours = ALWAYS if priority in self.always_on else self.hours
        return add_business_time(start, targets[priority], hours)


def start_clocks(ticket: Ticket, rules: SlaRules) -> None:
    """Both due times from the ticket's filing and its priority, and the running clock."""
    ticket.first_response_due = rules.due(ticket.created_at, ticket.priority, rules.first_response)
    ticket.resolution_due = rules.due(ticket.created_at, ticket.priority, rules.resolution)
    update_running(ticket)


def update_running(ticket: Ticket) -> None:
    """`sla_due_at`: the first response's due time until support answered, then the resolution's; none once
    resolved."""
    if ticket.status == RESOLVED:
        ticket.sla_due_at = None
    elif ticket.first_response_at is None:
        ticket.sla_due_at = ticket.first_response_due
    else:
        ticket.sla_due_at = ticket.resolution_due


def replied(ticket: Ticket, event: TicketEvent) -> None:
    """A reply of support the customer sees stops the first-response clock (the first one only)."""
    if event.author_kind == AGENT and ticket.first_response_at is None:
        ticket.first_response_at = event.created_at
        update_running(ticket)


def status_moved(ticket: Ticket, status: str, at: datetime) -> None:
    """Resolving stops the resolution clock; reopening starts it again against the same due time."""
    ticket.resolved_at = at if status == RESOLVED else None
    update_running(ticket)


def prioritise(ticket: Ticket, prediction: Prediction, rules: SlaRules | None) -> None:
    """A new ticket's predicted priority (kept apart, to count how often agents change it) and its clocks."""
    ticket.priority = ticket.predicted_priority = prediction.priority
    if rules is not None:
        start_clocks(ticket, rules)


def change_priority(db: Session, ticket: Ticket, priority: str, agent: User, rules: SlaRules | None
                    ) -> TicketEvent | None:
    """An agent's priority, recorded as a staff-only event; the due times are computed anew from the filing.
    None when unchanged."""
    if priority not in PRIORITIES:
        raise TicketError(f"priority must be one of {', '.join(PRIORITIES)}, not {priority!r}")
    if priority == ticket.priority:
        return None
    event = TicketEvent(kind=EVENT_PRIORITY, author_kind=AGENT, author=agent, body=f"{ticket.priority} → {priority}",
                        created_at=utcnow())
    ticket.events.append(event)
    ticket.priority = priority
    ticket.updated_at = event.created_at
    if rules is not None:
        start_clocks(ticket, rules)
    db.flush()
    return event


@dataclass(frozen=True)
class TicketClocks:
    first_response: ClockState
    resolution: ClockState

    @property
    def current(self) -> ClockState:
        """The clock the queue shows: the first response's until it is met, then the resolution's."""
        return self.first_response if self.first_response.state in (RUNNING, BREACHED) else self.resolution


def ticket_clocks(ticket: Ticket, now: datetime | None = None) -> TicketClocks:
    now = now or utcnow()
    stopped = ticket.resolved_at if ticket.status == RESOLVED else None
    return TicketClocks(clock_state(ticket.first_response_due, ticket.first_response_at, now, stopped),
                        clock_state(ticket.resolution_due, ticket.resolved_at if stopped else None, now))


def refresh_clocks(db: Session, rules: SlaRules, batch: int = 500) -> int:
    """Due times of every ticket recomputed from the current settings (after they changed, or for tickets filed
    before priorities existed); how many tickets there are."""
    done, last_id = 0, 0
    while True:
        tickets = list(db.scalars(select(Ticket).where(Ticket.id > last_id).order_by(Ticket.id).limit(batch)))
        if not tickets:
            return done
        for ticket in tickets:
            start_clocks(ticket, rules)
        db.commit()
        done, last_id = done + len(tickets), tickets[-1].id


def priority_report(db: Session) -> list[dict[str, Any]]:
    """Per predicted priority: tickets, how many agents changed, and to what ({"predicted", "tickets", "changed",
    "final": {priority: n}}), for leads to judge the rules."""
    changed = case((Ticket.priority != Ticket.predicted_priority, 1), else_=0)
    rows = db.execute(select(Ticket.predicted_priority, Ticket.priority, func.count(), func.sum(changed))
                      .where(Ticket.predicted_priority != "")
                      .group_by(Ticket.predicted_priority, Ticket.priority))
    report: dict[str, dict[str, Any]] = {}
    for predicted, final, n, n_changed in rows:
        entry = report.setdefault(predicted, {"predicted": predicted, "tickets": 0, "changed": 0, "final": {}})
        entry["tickets"] += n
        entry["changed"] += n_changed or 0
        entry["final"][final] = n
    return [report[p] for p in sorted(report)]
