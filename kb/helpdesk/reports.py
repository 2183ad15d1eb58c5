"""The insights page's tables over a period [start, end) of naive UTC times: what customers searched, what failed
them, which articles did not help, and what agents used. Each returns plain rows (lists of dicts), the same on
SQLite and PostgreSQL."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import String, and_, case, cast, distinct, func, literal, select
from sqlalchemy.orm import Session

from kb.helpdesk.models import ArticleView, SearchDay, Ticket, TicketArticle, Vote
from kb.helpdesk.rollups import live_segments, rolled_days, search_texts

BEFORE_TICKET = timedelta(hours=1)  # an article viewed this long before the same customer filed a ticket
MAX_REASONS = 5


def _search_texts(db: Session, start: datetime, end: datetime, unanswered: bool) -> dict[str, dict]:
    """Searches of the period by text: rolled-up days' stored texts added to the other days' events."""
    rolled = rolled_days(db, start, end)
    totals: dict[str, dict] = {}

    def add(row: dict) -> None:
        total = totals.setdefault(row["text"], {"text": row["text"], "searches": 0, "confident": 0, "clicked": 0,
                                                "best_confidence": 0.0, "lang": "", "top_article": ""})
        for name in ("searches", "confident", "clicked"):
            total[name] += row[name]
        total["best_confidence"] = max(total["best_confidence"], row["best_confidence"])
        total["lang"] = total["lang"] or row["lang"]
        total["top_article"] = total["top_article"] or row["top_article"]

    if rolled:  # summed in SQL: a row a text, not a row a text and day
        query = (select(SearchDay.text, func.sum(SearchDay.searches), func.sum(SearchDay.confident),
                        func.sum(SearchDay.clicked), func.max(SearchDay.best_confidence), func.max(SearchDay.lang),
                        func.max(SearchDay.top_article))
                 .where(SearchDay.day >= min(rolled), SearchDay.day <= max(rolled))  # every day between is rolled
                 .group_by(SearchDay.text))
        for text, n, confident, clicked, best, lang, top in db.execute(query):
            add({"text": text, "searches": int(n), "confident": int(confident or 0), "clicked": int(clicked or 0),
                 "best_confidence": float(best or 0.0), "lang": lang or "", "top_article": top or ""})
    for seg_start, seg_end in live_segments(start, end, rolled):
        for row in search_texts(db, seg_start, seg_end, None, unanswered):
            add(row)
    return totals


def top_searches(db: Session, start: datetime, end: datetime, limit: int = 20) -> list[dict]:
    """The most frequent searches: how often, the share answered confidently, and how many got a click."""
    rows = sorted(_search_texts(db, start, end, False).values(), key=lambda r: (-r["searches"], r["text"]))[:limit]
    return [{"search": r["text"], "count": r["searches"], "confident_share": round(r["confident"] / r["searches"], 3),
             "clicked": r["clicked"]} for r in rows]


def unanswered_searches(db: Session, start: datetime, end: datetime, limit: int = 200) -> list[dict]:
    """Searches with no confident answer, by text, most frequent first, with a language and the best confidence."""
    rows = [r for r in _search_texts(db, start, end, True).values() if r["searches"] > r["confident"]]
    rows.sort(key=lambda r: (-(r["searches"] - r["confident"]), r["text"]))
    return [{"search": r["text"], "count": r["searches"] - r["confident"], "lang": r["lang"],
             "confidence": round(r["best_confidence"], 3), "top_article": r["top_article"]} for r in rows[:limit]]


def not_helpful(db: Session, start: datetime, end: datetime, limit: int = 20) -> list[dict]:
    """Articles with the most "not helpful" votes given in the period, with yes votes and the latest reasons."""
    in_period = (Vote.updated_at >= start, Vote.updated_at < end)
    no = func.sum(case((Vote.helpful.is_(False), 1), else_=0))
    rows = db.execute(select(Vote.article_id, no, func.count(Vote.id)).where(*in_period)
                      .group_by(Vote.article_id).having(no > 0).order_by(no.desc(), Vote.article_id)
                      .limit(limit)).all()
    reasons: dict[str, list[str]] = defaultdict(list)
    if rows:
        for article, reason in db.execute(
                select(Vote.article_id, Vote.reason).where(*in_period, Vote.helpful.is_(False), Vote.reason != "",
                                                           Vote.article_id.in_([r[0] for r in rows]))
                .order_by(Vote.updated_at.desc())):
            if len(reasons[article]) < MAX_REASONS:
                reasons[article].append(reason)
    return [{"article": a, "not_helpful": int(n), "helpful": int(total) - int(n), "reasons": reasons.get(a, [])}
            for a, n, total in rows]


def viewed_before_ticket(db: Session, start: datetime, end: datetime, limit: int = 20) -> list[dict]:
    """Articles a customer viewed in the hour before filing a ticket (articles that did not solve it): how many
    tickets followed a view of each."""
    customer = literal("user:", String).concat(cast(Ticket.customer_id, String))
    window_start = Ticket.created_at - BEFORE_TICKET if db.get_bind().dialect.name != "sqlite" else \
        func.datetime(Ticket.created_at, f"-{int(BEFORE_TICKET.total_seconds())} seconds")
    tickets = func.count(distinct(Ticket.id))
    rows = db.execute(
        select(ArticleView.article_id, tickets)
        .join(Ticket, and_(ArticleView.visitor == customer, ArticleView.created_at <= Ticket.created_at,
                           ArticleView.created_at >= window_start))
        .where(Ticket.created_at >= start, Ticket.created_at < end)
        .group_by(ArticleView.article_id).order_by(tickets.desc(), ArticleView.article_id).limit(limit)).all()
    return [{"article": a, "tickets_after": int(n)} for a, n in rows]


def most_linked(db: Session, start: datetime, end: datetime, limit: int = 20) -> list[dict]:
    """Articles agents linked into replies most often, on how many tickets."""
    tickets = func.count(distinct(TicketArticle.ticket_id))
    rows = db.execute(select(TicketArticle.article_id, func.count(TicketArticle.id), tickets)
                      .where(TicketArticle.created_at >= start, TicketArticle.created_at < end)
                      .group_by(TicketArticle.article_id).order_by(tickets.desc(), TicketArticle.article_id)
                      .limit(limit)).all()
    return [{"article": a, "links": int(n), "tickets": int(t)} for a, n, t in rows]


def week_of(day: date) -> date:
    """The Monday starting a day's ISO week."""
    return day - timedelta(days=day.weekday())


def tickets_per_category_week(db: Session, start: datetime, end: datetime) -> list[dict]:
    """Tickets filed per category (the customer's choice, else the predicted one, else none) per ISO week."""
    category = func.coalesce(func.nullif(Ticket.category, ""), func.nullif(Ticket.predicted_category, ""), "")
    day = func.date(Ticket.created_at)
    counts: dict[tuple[date, str], int] = defaultdict(int)
    for when, cat, n in db.execute(select(day, category, func.count(Ticket.id))
                                   .where(Ticket.created_at >= start, Ticket.created_at < end)
                                   .group_by(day, category)):
        counts[(week_of(date.fromisoformat(str(when)[:10])), cat)] += int(n)
    return [{"week": week.isoformat(), "category": cat, "tickets": n}
            for (week, cat), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1]))]
