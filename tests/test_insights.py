"""The self-service figures' arithmetic on a seeded database: sessions, self-service score, deflection rate,
resolution before first contact, customer effort and cost saved, including an empty range and a single day."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from kb.helpdesk.accounts import add_organisation, add_user
from kb.helpdesk.analytics import EFFORT, new_token
from kb.helpdesk.db import open_database
from kb.helpdesk.insights import summary
from kb.helpdesk.models import AnalyticsEvent, ArticleView, Deflection, SearchRecord, Ticket

D1, D2 = datetime(2026, 3, 2, 9), datetime(2026, 3, 3, 15)


def search(visitor: str, when: datetime) -> SearchRecord:
    return SearchRecord(token=new_token(), source="portal", visitor=visitor, query="q", created_at=when)


@pytest.fixture
def seeded(database_url: str):
    _, sessions = open_database(database_url)
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        ann = add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        bob = add_user(db, "bob@acme.example", "password-bob", "Acme", "member")
        db.flush()
        # Day 1: ann searches twice (one session) and files a ticket; bob searches and does not file;
        # an anonymous visitor searches and views (one session); a view with no visitor id is no session.
        db.add_all([search(f"user:{ann.id}", D1), search(f"user:{ann.id}", D1.replace(hour=10)),
                    search(f"user:{bob.id}", D1), search("v:anon", D1),
                    ArticleView(article_id="a", visitor="v:anon", created_at=D1),
                    ArticleView(article_id="a", visitor="a:0123abcd", created_at=D1)])
        db.add(Ticket(ref="KB-1", customer_id=ann.id, subject="s", description="d", created_at=D1.replace(hour=11)))
        # Day 2: bob searches again and files; ann only views; one deflection; two effort answers.
        db.add_all([search(f"user:{bob.id}", D2),
                    ArticleView(article_id="a", visitor=f"user:{ann.id}", created_at=D2),
                    Deflection(article_id="a", visitor="v:anon", created_at=D2),
                    AnalyticsEvent(kind=EFFORT, value=6, created_at=D2),
                    AnalyticsEvent(kind=EFFORT, value=3, created_at=D2)])
        db.add(Ticket(ref="KB-2", customer_id=bob.id, subject="s", description="d", created_at=D2))
    return sessions


def test_two_days(seeded):
    with seeded() as db:
        got = summary(db, datetime(2026, 3, 2), datetime(2026, 3, 4), ticket_cost=20.0, session_cost=0.5)
    assert got.sessions == 5  # ann d1, bob d1, anon d1, bob d2, ann d2
    assert (got.ticket_customers, got.self_service_score) == (2, 2.5)
    assert (got.solved, got.tickets, got.deflection_rate) == (1, 2, round(1 / 3, 4))
    # signed-in search sessions: ann d1 (filed), bob d1 (no), bob d2 (filed)
    assert (got.followed_sessions, got.resolved_before_contact) == (3, 1)
    assert got.resolution_before_contact == round(1 / 3, 4)
    assert (got.effort_answers, got.effort_score) == (2, 4.5)
    assert got.cost_saved == round(round(1 / 3, 4) * 5 * 20.0 - 5 * 0.5, 2)


def test_a_single_day(seeded):
    with seeded() as db:
        got = summary(db, datetime(2026, 3, 2), datetime(2026, 3, 3))
    assert (got.sessions, got.ticket_customers, got.tickets, got.solved) == (3, 1, 1, 0)
    assert (got.deflection_rate, got.followed_sessions, got.resolved_before_contact) == (0.0, 2, 1)
    assert (got.effort_answers, got.effort_score) == (0, None)


def test_an_empty_range_has_no_ratios(seeded):
    with seeded() as db:
        got = summary(db, datetime(2025, 1, 1), datetime(2025, 2, 1), ticket_cost=20.0, session_cost=0.5)
    assert (got.sessions, got.tickets, got.solved, got.effort_answers) == (0, 0, 0, 0)
    assert got.self_service_score is got.deflection_rate is got.resolution_before_contact is got.effort_score is None
    assert got.cost_saved == 0.0


def test_per_day_counts_add_up_to_the_period(seeded):
    from kb.helpdesk.insights import daily

    with seeded() as db:
        per_day = daily(db, datetime(2026, 3, 1), datetime(2026, 3, 4))
        whole = summary(db, datetime(2026, 3, 1), datetime(2026, 3, 4))
    assert [d.day for d in per_day] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    assert [(d.sessions, d.tickets, d.solved) for d in per_day] == [(0, 0, 0), (3, 1, 0), (2, 1, 1)]
    assert [(d.followed_sessions, d.contacted_sessions) for d in per_day] == [(0, 0), (2, 1), (1, 1)]
    assert [(d.effort_answers, d.effort_total) for d in per_day] == [(0, 0), (0, 0), (2, 9)]
    assert whole.sessions == sum(d.sessions for d in per_day) == 5


def test_the_tables(seeded):
    from kb.helpdesk.analytics import CLICK
    from kb.helpdesk.models import TicketArticle, Vote
    from kb.helpdesk import reports

    with seeded.begin() as db:
        ann_id = db.scalar(select(Ticket.customer_id).where(Ticket.ref == "KB-1"))
        kb1 = db.scalar(select(Ticket.id).where(Ticket.ref == "KB-1"))
        db.add_all([search("v:a", D1), search("v:b", D1), search("v:c", D2)])
        for row in db.scalars(select(SearchRecord)):
            row.query = "Printer offline" if row.visitor in ("v:a", "v:b", "v:c") else "vpn"
            row.confident = row.visitor != "v:c"
        db.flush()
        token = db.scalar(select(SearchRecord.token).where(SearchRecord.visitor == "v:a"))
        db.add(AnalyticsEvent(kind=CLICK, search_token=token, article_id="printer-offline", created_at=D1))
        db.add_all([Vote(article_id="x", visitor="v:1", helpful=False, reason="no macOS steps", updated_at=D1),
                    Vote(article_id="x", visitor="v:2", helpful=False, reason="", updated_at=D2),
                    Vote(article_id="x", visitor="v:3", helpful=True, updated_at=D2),
                    Vote(article_id="y", visitor="v:1", helpful=True, updated_at=D2)])
        # ann viewed "guide" 30 minutes before KB-1 and "old" two hours before
        db.add_all([ArticleView(article_id="guide", visitor=f"user:{ann_id}", created_at=D1.replace(hour=10, minute=30)),
                    ArticleView(article_id="old", visitor=f"user:{ann_id}", created_at=D1.replace(hour=9))])
        db.add_all([TicketArticle(ticket_id=kb1, article_id="guide", created_at=D1),
                    TicketArticle(ticket_id=kb1, article_id="guide", created_at=D2)])
    start, end = datetime(2026, 3, 1), datetime(2026, 3, 8)
    with seeded() as db:
        top = reports.top_searches(db, start, end)
        assert top[0] == {"search": "vpn", "count": 5, "confident_share": 1.0, "clicked": 0}
        assert top[1] == {"search": "printer offline", "count": 3, "confident_share": round(2 / 3, 3), "clicked": 1}
        assert [(r["search"], r["count"]) for r in reports.unanswered_searches(db, start, end)] == [
            ("printer offline", 1)]
        assert reports.not_helpful(db, start, end) == [
            {"article": "x", "not_helpful": 2, "helpful": 1, "reasons": ["no macOS steps"]}]
        assert reports.viewed_before_ticket(db, start, end) == [{"article": "guide", "tickets_after": 1}]
        assert reports.most_linked(db, start, end) == [{"article": "guide", "links": 2, "tickets": 1}]
        weeks = reports.tickets_per_category_week(db, start, end)
        assert weeks == [{"week": "2026-03-02", "category": "", "tickets": 2}]
        empty = datetime(2025, 1, 1), datetime(2025, 1, 2)
        assert all(f(db, *empty) == [] for f in (reports.top_searches, reports.unanswered_searches,
                                                 reports.not_helpful, reports.viewed_before_ticket,
                                                 reports.most_linked, reports.tickets_per_category_week))


def test_rolled_up_days_give_the_same_figures_and_tables(seeded):
    from kb.helpdesk import reports
    from kb.helpdesk.analytics import purge
    from kb.helpdesk.insights import daily
    from kb.helpdesk.models import InsightDay, SearchDay
    from kb.helpdesk.rollups import roll_up

    start, end = datetime(2026, 3, 1), datetime(2026, 3, 8)

    def everything(db):
        return (daily(db, start, end), summary(db, start, end, 20.0, 0.5), reports.top_searches(db, start, end),
                reports.unanswered_searches(db, start, end))

    with seeded() as db:
        db.add(search("v:late", datetime(2026, 3, 3, 23, 59)))
        db.commit()
        for row in db.scalars(select(SearchRecord).where(SearchRecord.visitor == "v:late")):
            row.confident = False
        db.commit()
        live = everything(db)
        # D2 (March 3) is not settled on March 4: only March 2 is rolled up
        assert roll_up(db, now=datetime(2026, 3, 4, 8)) == 1
        assert set(db.scalars(select(InsightDay.day))) == {"2026-03-02"}
        assert everything(db) == live
        # March 3 to 18: the quiet days too, so that they are never computed from the events again
        assert roll_up(db, now=datetime(2026, 3, 20)) == 16
        assert roll_up(db, now=datetime(2026, 3, 20)) == 0  # nothing is computed twice
        assert len(set(db.scalars(select(InsightDay.day)))) == 17
        assert everything(db) == live
        # a period that cuts a rolled-up day reads that day from the events
        part = datetime(2026, 3, 2, 10), datetime(2026, 3, 3, 16)
        with_rollups = summary(db, *part)
    with seeded() as db:
        db.execute(InsightDay.__table__.delete())
        db.commit()
        assert summary(db, *part) == with_rollups
    purge(seeded.kw["bind"], datetime(2026, 3, 3))
    with seeded() as db:
        assert set(db.scalars(select(SearchDay.day))) == {"2026-03-03"}  # the texts go with the events
