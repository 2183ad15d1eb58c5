"""Recording for insights: searches and clicks written off the request's path, contact-form outcomes, customer
effort answers, 'not helpful' reasons, retention and purge; nothing recorded with analytics off."""
from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select, text

from kb.cli import cli
from kb.helpdesk.analytics import (CLICK, EFFORT, SUPERSEDE_WINDOW, TICKET_FILED, EventLog, RetentionSweeper,
                                   is_token, new_token, purge, retention_cutoff)
from kb.helpdesk.db import downgrade, make_engine, open_database, upgrade
from kb.helpdesk.models import AnalyticsEvent, ArticleView, Deflection, SearchRecord, Ticket, Vote, utcnow
from kb.helpdesk.tickets import set_status
from tests.portal import add_people, file_ticket, make_app, post, sign_in


def rows(app, model, *where):
    """The model's rows, after the app's event log wrote what it buffered."""
    app.extensions["kb.events"].flush()
    with app.extensions["kb.db"]() as db:
        return list(db.scalars(select(model).where(*where).order_by(model.id)))


def search_row(token: str = "", **values) -> dict:
    return {"token": token or new_token(), "source": "portal", "visitor": "v:x", "query": "q", "searched": "",
            "lang": "en", "results": 1, "top_article": "a", "confidence": 0.9, "confident": True, "category": "",
            **values}


# --- the event log ------------------------------------------------------------------------------------------------

def test_the_log_buffers_and_writes_in_one_flush(database_url: str):
    engine, sessions = open_database(database_url)
    log = EventLog(engine, start=False)
    for n in range(3):
        log.search(**search_row(query=f"q{n}"))
    log.event(CLICK, search_token="t" * 32, article_id="a", position=2)
    assert log.pending() == 4
    with sessions() as db:
        assert db.scalar(select(func.count(SearchRecord.id))) == 0  # nothing written by adding
    assert log.flush() == 4 and log.pending() == 0
    with sessions() as db:
        assert [r.query for r in db.scalars(select(SearchRecord).order_by(SearchRecord.id))] == ["q0", "q1", "q2"]
        click = db.scalar(select(AnalyticsEvent))
    assert (click.kind, click.position, click.article_id) == (CLICK, 2, "a")
    with pytest.raises(ValueError, match="unknown analytics event kind"):
        log.event("bogus")


def test_a_typing_session_counts_as_its_last_search(database_url: str):
    engine, sessions = open_database(database_url)
    log = EventLog(engine, start=False)
    now = utcnow()

    def typed(query: str, second: int, session: str = "", **values) -> str:
        row = search_row(**{"source": "suggest", "query": query, "created_at": now + timedelta(seconds=second),
                            **values})
        log.search(session=session, **row)
        return row["token"]

    def kept() -> set[str]:
        log.flush()
        with sessions() as db:
            return set(db.scalars(select(SearchRecord.query)))

    first = typed("my pri", 0)  # a session's first search names none: its token is the session's id
    typed("their printer", 1, visitor="v:other")
    log.search(**search_row(source="portal", query="printer", created_at=now + timedelta(seconds=1)))
    assert kept() == {"my pri", "their printer", "printer"}
    # requests of one session arrive in any order: each replaces the session's searches made before it
    typed("my printer says", 3, first)
    typed("my printer says offline", 4, first, source="form")
    typed("my printer", 2, first)  # answered last, made before
    typed("not theirs to replace", 5, first, visitor="v:other")
    assert kept() == {"their printer", "printer", "my printer says offline", "not theirs to replace"}

    # a search a click, a "solved" or a ticket refers to stays; so does one older than the window
    second = typed("vpn", 10)
    log.event(CLICK, search_token=second, article_id="a", position=1)
    old = typed("weeks ago", -int(SUPERSEDE_WINDOW.total_seconds()) - 60)
    typed("vpn down", 11, second)
    typed("after weeks", 12, old)
    assert {"vpn", "vpn down", "weeks ago", "after weeks"} <= kept()
    typed("vpn down at home", 13, second)
    assert "vpn down" not in kept() and {"vpn", "vpn down at home"} <= kept()
    engine.dispose()


def test_rows_the_database_refuses_stay_buffered_and_the_buffer_is_bounded(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")  # no schema yet: every insert fails
    log = EventLog(engine, start=False, max_buffered=3)
    for n in range(5):
        log.search(**search_row(query=f"q{n}"))
    assert log.pending() == 3 and log.dropped == 2  # the oldest went first
    assert log.flush() == 0 and log.pending() == 3
    upgrade(engine)
    assert log.flush() == 3
    with engine.connect() as connection:
        assert [r[0] for r in connection.execute(text("SELECT query FROM searches ORDER BY id"))] == ["q2", "q3", "q4"]


def test_the_thread_writes_without_being_asked(database_url: str):
    engine, sessions = open_database(database_url)
    log = EventLog(engine, interval=0.05)
    log.search(**search_row())
    for _ in range(200):
        with sessions() as db:
            if db.scalar(select(func.count(SearchRecord.id))):
                break
        import time
        time.sleep(0.05)
    else:
        pytest.fail("the background thread never wrote the buffered search")
    log.close()


def test_purge_deletes_old_events_of_every_kind_and_keeps_votes(database_url: str):
    engine, sessions = open_database(database_url)
    old, new = datetime(2026, 1, 1), datetime(2026, 6, 1)
    with sessions.begin() as db:
        for when in (old, new):
            db.add(SearchRecord(**search_row(), created_at=when))
            db.add(AnalyticsEvent(kind=CLICK, created_at=when))
            db.add(ArticleView(article_id="a", visitor="v:x", created_at=when))
            db.add(Deflection(article_id="a", visitor="v:x", created_at=when))
        db.add(Vote(article_id="a", visitor="v:x", helpful=False, created_at=old))
    removed = purge(engine, datetime(2026, 3, 1))
    assert removed == {"searches": 1, "analytics_events": 1, "article_views": 1, "deflections": 1, "search_days": 0}
    with sessions() as db:
        for model in (SearchRecord, AnalyticsEvent, ArticleView, Deflection):
            assert [r.created_at for r in db.scalars(select(model))] == [new]
        assert db.scalar(select(func.count(Vote.id))) == 1


def test_retention_sweeps_at_most_once_a_period(database_url: str):
    assert retention_cutoff(0) is None
    assert retention_cutoff(30, datetime(2026, 3, 31)) == datetime(2026, 3, 1)
    engine, sessions = open_database(database_url)
    with sessions.begin() as db:
        db.add(SearchRecord(**search_row(), created_at=utcnow() - timedelta(days=40)))
    sweeper = RetentionSweeper(engine, days=30, every=3600)
    assert sweeper.maybe() == {"searches": 1, "analytics_events": 0, "article_views": 0, "deflections": 0,
                              "search_days": 0}
    with sessions.begin() as db:
        db.add(SearchRecord(**search_row(), created_at=utcnow() - timedelta(days=40)))
    assert sweeper.maybe() is None  # not again within the hour
    assert RetentionSweeper(engine, days=0).maybe() is None


def test_kb_analytics_purge(database_url: str):
    url = database_url
    _, sessions = open_database(url)
    with sessions.begin() as db:
        db.add(SearchRecord(**search_row(), created_at=datetime(2025, 12, 31, 23, 59)))
        db.add(SearchRecord(**search_row(), created_at=datetime(2026, 1, 1)))
    runner = CliRunner()
    done = runner.invoke(cli, ["analytics", "purge", "--before", "2026-01-01", "--database", url], obj={})
    assert done.exit_code == 0 and "1 searches" in done.output, done.output
    with sessions() as db:
        assert db.scalar(select(func.count(SearchRecord.id))) == 1
    bad = runner.invoke(cli, ["analytics", "purge", "--before", "yesterday", "--database", url], obj={})
    assert bad.exit_code == 2 and "--before" in bad.output


def test_migration_0004_goes_both_ways_keeping_the_data(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'kb.sqlite3'}")
    upgrade(engine, "0003")
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO votes (article_id, visitor, helpful, created_at, updated_at)"
                                " VALUES ('a', 'v:x', 0, '2026-01-01', '2026-01-01')"))
        connection.execute(text("INSERT INTO deflections (article_id, query, visitor, created_at)"
                                " VALUES ('a', 'q', 'v:x', '2026-01-01')"))
    upgrade(engine)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT reason FROM votes")).scalar_one() == ""
        assert connection.execute(text("SELECT search_token FROM deflections")).scalar_one() == ""
    assert {"searches", "analytics_events"} <= set(inspect(engine).get_table_names())
    downgrade(engine, "0003")
    assert not {"searches", "analytics_events"} & set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM votes")).scalar_one() == 1
        assert connection.execute(text("SELECT query FROM deflections")).scalar_one() == "q"


# --- the portal records -------------------------------------------------------------------------------------------

def test_a_portal_search_is_recorded_and_its_results_carry_it_to_a_click(app, ann):
    page = ann.get("/search?q=printer+offline").get_data(as_text=True)
    links = re.findall(r'href="/articles/([^"?#]+)\?s=([0-9a-f]{32})&amp;p=(\d+)', page)
    assert links and links[0][2] == "1" and len({token for _, token, _ in links}) == 1
    [search] = rows(app, SearchRecord)
    assert (search.source, search.query, search.token, search.lang) == ("portal", "printer offline", links[0][1], "en")
    assert search.results == len(links) and search.top_article == links[0][0]
    assert search.visitor.startswith("user:") and search.category == "printers"
    article, token, _ = links[-1]
    assert ann.get(f"/articles/{article}?s={token}&p={len(links)}").status_code == 200
    [click] = rows(app, AnalyticsEvent)
    assert (click.kind, click.search_token, click.article_id, click.position) == (CLICK, token, article, len(links))
    # a made-up token or position records nothing and still shows the article
    for bad in (f"s={'z' * 32}&p=1", f"s={token}&p=0", f"s={token}&p=x", "s=&p=1"):
        assert ann.get(f"/articles/{article}?{bad}").status_code == 200
    assert len(rows(app, AnalyticsEvent)) == 1


def test_anonymous_searches_are_recorded_by_cookie_never_by_address(app, client):
    client.get("/search?q=reset+password")
    [search] = rows(app, SearchRecord)
    assert search.visitor.startswith("v:") and "127.0.0.1" not in search.visitor
    with app.test_request_context("/"):
        from flask import g

        from web.analytics import analytics_visitor
        g.visitor = "a:0123456789abcdef01234567"  # a client past rate_limit_new_visitors
        assert analytics_visitor() == ""


def test_a_corrected_query_is_recorded_as_typed_and_as_searched(app, client):
    client.get("/search?q=pasword+expired")
    [search] = rows(app, SearchRecord)
    assert (search.query, search.searched) == ("pasword expired", "password expired")


def test_suggestions_and_the_api_are_recorded_with_their_source(app, ann):
    data = ann.get("/api/suggest?q=my+printer+says+offline").get_json()
    assert is_token(data["search"]) and data["suggestions"]
    assert f"?s={data['search']}&p=1" in data["suggestions"][0]["url"]
    api = ann.get("/api/search?q=forgot+password&k=3").get_json()
    assert is_token(api["search"])
    recorded = {r.token: r for r in rows(app, SearchRecord)}
    assert recorded[data["search"]].source == "suggest" and recorded[data["search"]].confident
    assert recorded[api["search"]].source == "api" and recorded[api["search"]].results == len(api["results"])
    assert ann.get("/api/suggest?q=ab").get_json()["search"] == ""  # too short to search: nothing recorded
    assert len(rows(app, SearchRecord)) == 2


def test_a_contact_session_from_typing_to_ticket_leaves_one_search(app, ann):
    session = ""
    for typed in ("my printer", "my printer says", "my printer says offline"):  # the page's typing pauses
        answer = ann.get(f"/api/suggest?q={typed}&session={session}").get_json()
        assert is_token(answer["search"]) and answer["session"] == (session or answer["search"])
        session = answer["session"]
    assert [r.query for r in rows(app, SearchRecord)] == ["my printer says offline"]
    page = post(ann, "/contact", {"subject": "", "description": "my printer says offline since monday",
                                  "session": session, "step": "ticket"}).get_data(as_text=True)
    assert re.search(r'id="contact-session" name="session"[^>]*value="([0-9a-f]{32})"', page).group(1) == session
    assert [r.query for r in rows(app, SearchRecord)] == ["my printer says offline since monday"]
    ref = file_ticket(ann, subject="Printer offline", description="my printer says offline since monday",
                      session=session)
    [search] = rows(app, SearchRecord)
    [filed] = rows(app, AnalyticsEvent, AnalyticsEvent.kind == TICKET_FILED)
    assert (search.source, filed.ticket_ref, filed.search_token) == ("form", ref, search.token)
    # "Find answers" (no script) carries the session on the same way
    page = post(ann, "/contact", {"description": "vpn is down", "step": "suggest"}).get_data(as_text=True)
    started = re.search(r'id="typing-session" name="session"[^>]*value="([0-9a-f]{32})"', page).group(1)
    post(ann, "/contact", {"description": "vpn is down at home", "step": "suggest", "session": started})
    assert [r.query for r in rows(app, SearchRecord)][1:] == ["vpn is down at home"]


def test_solved_and_a_ticket_after_a_search_name_their_search(app, ann):
    page = post(ann, "/contact", {"subject": "printer", "description": "my printer says offline",
                                  "step": "suggest"}).get_data(as_text=True)
    token = re.search(r'name="search" value="([0-9a-f]{32})"', page).group(1)
    post(ann, "/contact/solved", {"article_id": "printer-offline", "query": "printer", "search": token})
    assert [d.search_token for d in rows(app, Deflection)] == [token]
    post(ann, "/contact/solved", {"article_id": "printer-offline", "query": "printer", "search": "not-a-token"})
    assert [d.search_token for d in rows(app, Deflection)] == [token, ""]
    ref = file_ticket(ann, description="my printer says offline")
    [filed] = rows(app, AnalyticsEvent, AnalyticsEvent.kind == TICKET_FILED)
    ticket = rows(app, Ticket)[0]
    assert filed.ticket_ref == ref and filed.search_token == ticket.deflection["search"]
    assert filed.search_token in {r.token for r in rows(app, SearchRecord, SearchRecord.source == "form")}
    created = ann.post("/api/tickets", json={"subject": "VPN", "description": "vpn is down"})
    assert created.status_code == 201
    assert len(rows(app, AnalyticsEvent, AnalyticsEvent.kind == TICKET_FILED)) == 2


def test_effort_after_solved_and_on_a_resolved_ticket(app, ann, client):
    solved = post(ann, "/contact/solved", {"article_id": "printer-offline", "query": "printer"})
    assert "How easy was it to solve your problem?" in solved.get_data(as_text=True)
    answered = post(ann, "/effort", {"score": "6", "article_id": "printer-offline"})
    assert answered.status_code == 302 and answered.headers["Location"] == "/articles/printer-offline"
    for bad in ("0", "8", "x", ""):
        post(ann, "/effort", {"score": bad, "article_id": "printer-offline"})
    assert post(ann, "/effort", {"score": "5", "article_id": "no-such-article"}).status_code == 400
    assert [(e.value, e.article_id) for e in rows(app, AnalyticsEvent, AnalyticsEvent.kind == EFFORT)] == [
        (6, "printer-offline")]

    ref = file_ticket(ann)
    assert "How easy" not in ann.get(f"/tickets/{ref}").get_data(as_text=True)  # not resolved yet
    with app.extensions["kb.db"].begin() as db:
        set_status(db, db.scalar(select(Ticket).where(Ticket.ref == ref)), "resolved")
    assert "How easy was it to solve your problem?" in ann.get(f"/tickets/{ref}").get_data(as_text=True)
    other = app.test_client()
    sign_in(other, "oz@other.example")
    assert post(other, "/effort", {"score": "1", "ticket": ref}).status_code == 404  # not theirs
    assert post(client.application.test_client(), "/effort", {"score": "1", "ticket": ref}).status_code == 404
    assert post(ann, "/effort", {"score": "3", "ticket": ref}).status_code == 302
    post(ann, "/effort", {"score": "7", "ticket": ref})  # answered once: a second answer is not counted
    assert [(e.value, e.ticket_ref) for e in rows(app, AnalyticsEvent, AnalyticsEvent.kind == EFFORT,
                                                   AnalyticsEvent.ticket_ref != "")] == [(3, ref)]
    assert "How easy" not in ann.get(f"/tickets/{ref}").get_data(as_text=True)


def test_a_not_helpful_vote_keeps_what_was_missing(app, client):
    client.get("/articles/printer-offline")  # a visitor cookie first
    post(client, "/articles/printer-offline/vote", {"helpful": "no", "reason": "  no steps for\nmacOS \x00"})
    [vote] = rows(app, Vote)
    assert (vote.helpful, vote.reason) == (False, "no steps for macOS")
    post(client, "/articles/printer-offline/vote", {"helpful": "yes", "reason": "ignored with a yes"})
    [vote] = rows(app, Vote)
    assert (vote.helpful, vote.reason) == (True, "")


def test_with_analytics_off_nothing_is_recorded(portal_index, portal_settings):
    app = make_app(replace(portal_settings, analytics="off"), portal_index[1])
    add_people(app)
    client = app.test_client()
    sign_in(client, "ann@acme.example")
    page = client.get("/search?q=printer+offline").get_data(as_text=True)
    assert 'href="/articles/printer-offline"' in page and "?s=" not in page
    assert client.get("/api/suggest?q=my+printer+says+offline").get_json()["search"] == ""
    solved = post(client, "/contact/solved", {"article_id": "printer-offline", "query": "printer"})
    assert "How easy" not in solved.get_data(as_text=True)
    assert app.extensions["kb.events"] is None
    with app.extensions["kb.db"]() as db:
        assert db.scalar(select(func.count(SearchRecord.id))) == 0
        assert db.scalar(select(func.count(AnalyticsEvent.id))) == 0
