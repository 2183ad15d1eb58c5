"""Finished days rolled up once, so that insights over months read a row a day instead of every recorded search.

A day is rolled up once it is settled: at least SETTLE_DAYS old, when the clicks and effort answers that come
after a search have arrived. Its counts go to `insight_days` (kb.helpdesk.insights.Day) and its most frequent
search texts (TEXTS_PER_DAY by searches and as many by searches without a confident answer) to `search_days`.
Insights read those for rolled-up days and the events themselves for the rest (kb/helpdesk/insights.py,
kb/helpdesk/reports.py). Each day is computed and committed on its own; what is already rolled up is never
computed again.
"""
from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime, timedelta

from sqlalchemy import Integer, case, cast, delete, func, select
from sqlalchemy.orm import Session

from kb.helpdesk.analytics import CLICK
from kb.helpdesk.models import (SEARCH_TEXT_MAX, AnalyticsEvent, ArticleView, Deflection, InsightDay, SearchDay,
                                SearchRecord, Ticket, utcnow)

SETTLE_DAYS = 2
TEXTS_PER_DAY = 300


def settled_before(now: datetime | None = None) -> date:
    """Days before this one are settled (rolled up when they have events)."""
    return (now or utcnow()).date() - timedelta(days=SETTLE_DAYS - 1)


def searched_text():
    """A recorded search's text as searched (after a fix), case-folded: how searches are grouped."""
    return func.lower(func.coalesce(func.nullif(SearchRecord.searched, ""), SearchRecord.query))


def _first_event_day(db: Session) -> date | None:
    firsts = [db.scalar(select(func.min(model.created_at))) for model in (SearchRecord, ArticleView, Ticket, Deflection,
                                                                         AnalyticsEvent)]
    known = [f for f in firsts if f is not None]
    return min(known).date() if known else None


def search_texts(db: Session, start: datetime, end: datetime, limit: int | None,
                 unanswered_first: bool = False) -> list[dict]:
    """The searches of [start, end) grouped by text: searches, confident ones, clicked ones, the best confidence,
    a language and a first article; the `limit` most frequent (by searches without a confident answer when
    `unanswered_first`)."""
    text = searched_text().label("text")
    clicked = (select(AnalyticsEvent.id).where(AnalyticsEvent.search_token == SearchRecord.token,
                                                AnalyticsEvent.kind == CLICK).exists())
    searches, confident = func.count(SearchRecord.id), func.sum(cast(SearchRecord.confident, Integer))
    query = (select(text, searches, confident, func.sum(case((clicked, 1), else_=0)),
                    func.max(SearchRecord.confidence), func.max(SearchRecord.lang), func.max(SearchRecord.top_article))
             .where(SearchRecord.created_at >= start, SearchRecord.created_at < end).group_by(text)
             .order_by((searches - func.coalesce(confident, 0)).desc() if unanswered_first else searches.desc(), text))
    if limit is not None:
        query = query.limit(limit)
    return [{"text": t[:SEARCH_TEXT_MAX], "searches": int(n), "confident": int(c or 0), "clicked": int(k or 0),
             "best_confidence": float(best or 0.0), "lang": lang or "", "top_article": top or ""}
            for t, n, c, k, best, lang, top in db.execute(query).all()]


def roll_up_day(db: Session, day: date) -> None:
    """Compute and store one day's rows (replacing any), committed."""
    from kb.helpdesk.insights import live_daily

    start = datetime.combine(day, datetime.min.time())
    end = start + timedelta(days=1)
    [counts] = live_daily(db, start, end)
    rows: dict[str, dict] = {}
    for unanswered_first in (False, True):
        for row in search_texts(db, start, end, TEXTS_PER_DAY, unanswered_first):
            rows.setdefault(row["text"], row)
    db.execute(delete(SearchDay).where(SearchDay.day == day.isoformat()))
    db.execute(delete(InsightDay).where(InsightDay.day == day.isoformat()))
    db.add(InsightDay(**asdict(counts)))
    db.add_all(SearchDay(day=day.isoformat(), **row) for row in rows.values())
    db.commit()


def roll_up(db: Session, now: datetime | None = None, max_days: int | None = None) -> int:
    """Roll up every settled day with events that is not rolled up yet (at most `max_days` of them, oldest
    first); how many were."""
    first = _first_event_day(db)
    if first is None:
        return 0
    last = settled_before(now)
    done = set(db.scalars(select(InsightDay.day).where(InsightDay.day >= first.isoformat())))
    missing = [first + timedelta(days=n) for n in range((last - first).days)
               if (first + timedelta(days=n)).isoformat() not in done]
    for day in missing[:max_days]:
        roll_up_day(db, day)
    return len(missing[:max_days])


def rolled_days(db: Session, start: datetime, end: datetime) -> set[str]:
    """The days wholly inside [start, end) that are rolled up."""
    first = start.date() if start.time() == datetime.min.time() else start.date() + timedelta(days=1)
    return set(db.scalars(select(InsightDay.day).where(InsightDay.day >= first.isoformat(),
                                                       InsightDay.day < end.date().isoformat())))


def live_segments(start: datetime, end: datetime, rolled: set[str]) -> list[tuple[datetime, datetime]]:
    """The parts of [start, end) whose days are not rolled up, as periods to compute from the events."""
    segments: list[tuple[datetime, datetime]] = []
    day = start.date()
    while datetime.combine(day, datetime.min.time()) < end:
        if day.isoformat() not in rolled:
            seg_start = max(start, datetime.combine(day, datetime.min.time()))
            seg_end = min(end, datetime.combine(day + timedelta(days=1), datetime.min.time()))
            if segments and segments[-1][1] == seg_start:
                segments[-1] = (segments[-1][0], seg_end)
            else:
                segments.append((seg_start, seg_end))
        day += timedelta(days=1)
    return segments
