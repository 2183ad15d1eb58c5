"""The self-service figures a support lead reads, computed from what was recorded (kb/helpdesk/analytics.py) over
a period [start, end) of naive UTC times. Each is plain arithmetic in SQL, the same on SQLite and PostgreSQL.

Definitions:
- a help-center session: one visitor (signed-in user or visitor cookie) on one UTC day with at least one search
  or article view;
- self-service score: help-center sessions / customers who filed tickets (Zendesk's definition);
- contact-form deflection rate: "This solved my problem" answers / (those + tickets filed);
- resolution before first contact: of signed-in customers' sessions with a search (only they can file a ticket,
  so only theirs can be followed), the share after which the customer filed no ticket that day;
- customer effort score: the mean answer to "How easy was it to solve your problem?" (1-7);
- estimated cost saved: sessions resolved before contact × cost of a ticket − all sessions × cost of a
  self-service session.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, cast, distinct, func, literal, select, union
from sqlalchemy.orm import Session

from kb.helpdesk.analytics import EFFORT
from kb.helpdesk.models import AnalyticsEvent, ArticleView, Deflection, InsightDay, SearchRecord, Ticket
from kb.helpdesk.rollups import live_segments, rolled_days


@dataclass(frozen=True)
class Summary:
    sessions: int
    ticket_customers: int
    self_service_score: float | None
    solved: int
    tickets: int
    deflection_rate: float | None
    followed_sessions: int
    resolved_before_contact: int
    resolution_before_contact: float | None
    effort_answers: int
    effort_score: float | None
    cost_saved: float


def _day(column):
    """The UTC day of a timestamp: date() on both SQLite (a 'YYYY-MM-DD' text) and PostgreSQL (a date); a CAST to
    DATE would give SQLite's numeric 2026."""
    return func.date(column)


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _sessions(start: datetime, end: datetime):
    """(visitor, day) of every help-center session in the period."""
    searches = select(SearchRecord.visitor.label("visitor"), _day(SearchRecord.created_at).label("day")).where(
        SearchRecord.created_at >= start, SearchRecord.created_at < end, SearchRecord.visitor != "")
    views = select(ArticleView.visitor.label("visitor"), _day(ArticleView.created_at).label("day")).where(
        ArticleView.created_at >= start, ArticleView.created_at < end, ArticleView.visitor.like("user:%")
        | ArticleView.visitor.like("v:%"))
    return union(searches, views).subquery()


def _per_day(db: Session, query) -> dict[str, int]:
    """{day as 'YYYY-MM-DD': count} from a query of (day, count) rows."""
    return {str(day)[:10]: int(count) for day, count in db.execute(query).all()}


def _count_by_day(db: Session, rows) -> dict[str, int]:
    """How many rows of the subquery `rows` (with a `day` column) each day has."""
    return _per_day(db, select(rows.c.day, func.count()).group_by(rows.c.day))


def _followed(start: datetime, end: datetime):
    """Signed-in customers' search sessions (only they can file a ticket), and those after which the customer filed
    one that day: two subqueries of (visitor, day)."""
    searched = (select(SearchRecord.visitor.label("visitor"), _day(SearchRecord.created_at).label("day"))
                .where(SearchRecord.created_at >= start, SearchRecord.created_at < end,
                       SearchRecord.visitor.like("user:%"))
                .distinct().subquery())
    filed = (select(literal("user:", String).concat(cast(Ticket.customer_id, String)).label("visitor"),
                    _day(Ticket.created_at).label("day"))
             .where(Ticket.created_at >= start, Ticket.created_at < end).distinct().subquery())
    contacted = (select(searched.c.visitor, searched.c.day).join(
        filed, and_(filed.c.visitor == searched.c.visitor, filed.c.day == searched.c.day)).subquery())
    return searched, contacted


@dataclass(frozen=True)
class Day:
    day: str  # YYYY-MM-DD
    sessions: int = 0
    tickets: int = 0
    solved: int = 0
    followed_sessions: int = 0
    contacted_sessions: int = 0
    effort_answers: int = 0
    effort_total: int = 0


def daily(db: Session, start: datetime, end: datetime) -> list[Day]:
    """The period's counts per UTC day, every day present (zeros for a quiet one): rolled-up days as stored
    (kb/helpdesk/rollups.py), the others from the events."""
    rolled = {row.day: row for row in db.scalars(select(InsightDay).where(
        InsightDay.day.in_(rolled_days(db, start, end))))}
    live = {d.day: d for seg_start, seg_end in live_segments(start, end, set(rolled))
            for d in live_daily(db, seg_start, seg_end)}
    fields = [name for name in Day.__dataclass_fields__ if name != "day"]
    return [live[key] if key in live else
            Day(key, **{name: getattr(rolled[key], name) for name in fields}) if key in rolled else Day(key)
            for key in (day.isoformat() for day in days(start.date(), _end_day(end)))]


def _end_day(end: datetime) -> date:
    """The first day after a period ending at `end` (exclusive)."""
    return (end - timedelta(microseconds=1)).date() + timedelta(days=1)


def live_daily(db: Session, start: datetime, end: datetime) -> list[Day]:
    """The period's counts per UTC day computed from the events: one grouped query each."""
    in_period = {"tickets": (Ticket.created_at >= start, Ticket.created_at < end),
                 "solved": (Deflection.created_at >= start, Deflection.created_at < end)}
    searched, contacted = _followed(start, end)
    counts = {
        "sessions": _count_by_day(db, _sessions(start, end)),
        "tickets": _per_day(db, select(_day(Ticket.created_at), func.count(Ticket.id)).where(*in_period["tickets"])
                            .group_by(_day(Ticket.created_at))),
        "solved": _per_day(db, select(_day(Deflection.created_at), func.count(Deflection.id))
                           .where(*in_period["solved"]).group_by(_day(Deflection.created_at))),
        "followed_sessions": _count_by_day(db, searched),
        "contacted_sessions": _count_by_day(db, contacted),
    }
    effort_day = _day(AnalyticsEvent.created_at)
    effort = {str(day)[:10]: (int(n), int(total or 0)) for day, n, total in db.execute(
        select(effort_day, func.count(AnalyticsEvent.id), func.sum(AnalyticsEvent.value))
        .where(AnalyticsEvent.kind == EFFORT, AnalyticsEvent.created_at >= start, AnalyticsEvent.created_at < end)
        .group_by(effort_day)).all()}
    out = []
    for day in days(start.date(), _end_day(end)):
        key = day.isoformat()
        n, total = effort.get(key, (0, 0))
        out.append(Day(key, **{name: per_day.get(key, 0) for name, per_day in counts.items()},
                       effort_answers=n, effort_total=total))
    return out


def summary(db: Session, start: datetime, end: datetime, ticket_cost: float = 0.0,
            session_cost: float = 0.0, per_day: list[Day] | None = None) -> Summary:
    """The period's figures (module doc); `per_day`: its `daily` counts when already computed."""
    per_day = daily(db, start, end) if per_day is None else per_day
    sessions, tickets, solved = (sum(getattr(d, name) for d in per_day) for name in ("sessions", "tickets", "solved"))
    followed = sum(d.followed_sessions for d in per_day)
    resolved = followed - sum(d.contacted_sessions for d in per_day)
    effort_count, effort_total = sum(d.effort_answers for d in per_day), sum(d.effort_total for d in per_day)
    ticket_customers = int(db.scalar(select(func.count(distinct(Ticket.customer_id))).where(
        Ticket.created_at >= start, Ticket.created_at < end)) or 0)
    resolution = _ratio(resolved, followed)
    saved = (resolution or 0.0) * sessions * ticket_cost - sessions * session_cost
    return Summary(sessions, ticket_customers, _ratio(sessions, ticket_customers), solved, tickets,
                   _ratio(solved, solved + tickets), followed, resolved, resolution, effort_count,
                   round(effort_total / effort_count, 2) if effort_count else None, round(saved, 2))


def days(start: date, end: date) -> list[date]:
    """Every day of [start, end)."""
    return [start + timedelta(days=n) for n in range((end - start).days)]
