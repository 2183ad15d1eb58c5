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
from kb.helpdesk.models import AnalyticsEvent, ArticleView, Deflection, SearchRecord, Ticket


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


def session_count(db: Session, start: datetime, end: datetime) -> int:
    return int(db.scalar(select(func.count()).select_from(_sessions(start, end))) or 0)


def _followed(db: Session, start: datetime, end: datetime) -> tuple[int, int]:
    """Signed-in customers' search sessions, and how many of them ended without a ticket that day."""
    searched = (select(SearchRecord.visitor.label("visitor"), _day(SearchRecord.created_at).label("day"))
                .where(SearchRecord.created_at >= start, SearchRecord.created_at < end,
                       SearchRecord.visitor.like("user:%"))
                .distinct().subquery())
    filed = (select(literal("user:", String).concat(cast(Ticket.customer_id, String)).label("visitor"),
                    _day(Ticket.created_at).label("day"))
             .where(Ticket.created_at >= start, Ticket.created_at < end).distinct().subquery())
    total = int(db.scalar(select(func.count()).select_from(searched)) or 0)
    contacted = int(db.scalar(select(func.count()).select_from(searched).join(
        filed, and_(filed.c.visitor == searched.c.visitor, filed.c.day == searched.c.day))) or 0)
    return total, total - contacted


def summary(db: Session, start: datetime, end: datetime, ticket_cost: float = 0.0,
            session_cost: float = 0.0) -> Summary:
    sessions = session_count(db, start, end)
    tickets_in = (Ticket.created_at >= start, Ticket.created_at < end)
    ticket_customers = int(db.scalar(select(func.count(distinct(Ticket.customer_id))).where(*tickets_in)) or 0)
    tickets = int(db.scalar(select(func.count(Ticket.id)).where(*tickets_in)) or 0)
    solved = int(db.scalar(select(func.count(Deflection.id)).where(
        Deflection.created_at >= start, Deflection.created_at < end)) or 0)
    followed, resolved = _followed(db, start, end)
    effort_count, effort_mean = db.execute(select(func.count(AnalyticsEvent.id), func.avg(AnalyticsEvent.value)).where(
        AnalyticsEvent.kind == EFFORT, AnalyticsEvent.created_at >= start, AnalyticsEvent.created_at < end)).one()
    resolution = _ratio(resolved, followed)
    saved = (resolution or 0.0) * sessions * ticket_cost - sessions * session_cost
    return Summary(sessions, ticket_customers, _ratio(sessions, ticket_customers), solved, tickets,
                   _ratio(solved, solved + tickets), followed, resolved, resolution, int(effort_count),
                   round(float(effort_mean), 2) if effort_mean is not None else None, round(saved, 2))


def days(start: date, end: date) -> list[date]:
    """Every day of [start, end)."""
    return [start + timedelta(days=n) for n in range((end - start).days)]
