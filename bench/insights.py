"""How fast the insights page and its CSV answer over a large recorded history, on SQLite.

    .venv/bin/python bench/insights.py [--searches 1000000] [--days 365] [--repeat 3]

A SQLite database (a real file, the schema from the migrations) is filled with `--searches` recorded searches
spread over `--days` days (10,000 visitors, a tenth of them signed-in customers; 5,000 distinct texts with a
long tail; a quarter not confident), a click for every third search, one ticket per 400 searches, a "This solved
my problem" per 300, effort answers, article views and votes. The sample help center is built with the stand-in
encoder of tests/fakes.py (the page searches nothing; it only needs article titles). An admin's GET
/desk/insights/ for the last 28 days is timed once from the events alone; then the settled days are rolled up
(kb/helpdesk/rollups.py, as the serving process does hourly) and timed, and the page is timed for the last 28
days, the last 90 and the whole history, and the CSV of the top searches for the whole history: the best and the
median of `--repeat` runs each. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import insert  # noqa: E402

from bench.report import write_report  # noqa: E402
from indexer.build import build_index  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.helpdesk.accounts import add_organisation, add_staff, add_user  # noqa: E402
from kb.helpdesk.rollups import roll_up  # noqa: E402
from kb.helpdesk.models import (AnalyticsEvent, ArticleView, Deflection, SearchRecord, Ticket, Vote,  # noqa: E402
                                utcnow)
from search.service import SearchService  # noqa: E402
from tests.fakes import HashingEncoder  # noqa: E402
from tests.portal import PASSWORD, make_app, sign_in  # noqa: E402

OUT = ROOT / "bench" / "out" / "insights.json"
BATCH = 50_000


def fill(sessions, searches: int, days: int, seed: int = 11) -> dict:
    rng = random.Random(seed)
    now = utcnow()
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        customers = [add_user(db, f"c{n}@acme.example", PASSWORD, "Acme", "member") for n in range(50)]
        add_staff(db, "admin@bench.example", PASSWORD, "admin")
        db.flush()
        customer_ids = [c.id for c in customers]
    texts = [f"problem number {n} with the {rng.choice(['printer', 'vpn', 'mail', 'laptop'])}" for n in range(5000)]
    weights = [1 / (n + 1) for n in range(len(texts))]
    articles = ["printer-offline", "reset-password", "vpn-not-connecting", "mailbox-full", "wifi-keeps-dropping"]
    counts = {"searches": 0, "clicks": 0, "tickets": 0}
    engine = sessions.kw["bind"]
    with engine.begin() as connection:
        for start in range(0, searches, BATCH):
            n = min(BATCH, searches - start)
            picked = rng.choices(texts, weights, k=n)
            rows, clicks, tickets, solved, views = [], [], [], [], []
            for i, text in enumerate(picked):
                when = now - timedelta(seconds=rng.randrange(days * 86400))
                visitor = (f"user:{rng.choice(customer_ids)}" if rng.random() < 0.1
                           else f"v:{rng.randrange(10000):016d}")
                token = f"{start + i:032x}"
                rows.append({"token": token, "created_at": when, "source": "portal", "visitor": visitor,
                             "query": text, "searched": "", "lang": "en", "results": 3,
                             "top_article": rng.choice(articles), "confidence": rng.random(),
                             "confident": rng.random() > 0.25, "category": "printers"})
                if i % 3 == 0:
                    clicks.append({"kind": "click", "created_at": when, "visitor": visitor, "search_token": token,
                                   "article_id": rng.choice(articles), "position": 1, "ticket_ref": ""})
                if i % 400 == 0:
                    tickets.append({"ref": f"KB-{start + i}", "customer_id": rng.choice(customer_ids),
                                    "subject": text, "description": text, "category": "printers",
                                    "status": "submitted", "deflection": {}, "created_at": when,
                                    "updated_at": when, "last_customer_at": when})
                if i % 300 == 0:
                    solved.append({"article_id": rng.choice(articles), "query": text, "visitor": visitor,
                                   "created_at": when})
                if i % 5 == 0:
                    views.append({"article_id": rng.choice(articles), "visitor": visitor, "created_at": when})
            connection.execute(insert(SearchRecord), rows)
            connection.execute(insert(AnalyticsEvent), clicks)
            connection.execute(insert(Ticket), tickets)
            connection.execute(insert(Deflection), solved)
            connection.execute(insert(ArticleView), views)
            counts["searches"] += len(rows)
            counts["clicks"] += len(clicks)
            counts["tickets"] += len(tickets)
        connection.execute(insert(AnalyticsEvent), [
            {"kind": "effort", "created_at": now - timedelta(days=rng.randrange(days)), "value": rng.randint(1, 7),
             "visitor": "", "search_token": "", "article_id": "", "ticket_ref": ""} for _ in range(2000)])
        connection.execute(insert(Vote), [
            {"article_id": rng.choice(articles), "visitor": f"v:{n}", "helpful": rng.random() > 0.3,
             "reason": "", "created_at": now, "updated_at": now - timedelta(days=rng.randrange(days))}
            for n in range(3000)])
    return counts


def timed(client, path: str, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        runs.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    runs.sort()
    return {"best_s": round(runs[0], 3), "median_s": round(runs[len(runs) // 2], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--searches", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(articles_dir=ROOT / "articles", index_dir=root / "index", embedding_model="fake-hashing",
                            database_url=f"sqlite:///{root / 'kb.sqlite3'}", secret_key="b" * 32,
                            secret_key_file=root / "key", analytics="off")
        encoder = HashingEncoder()
        build_index(settings, encoder)
        app = make_app(settings, SearchService.load(settings.index_dir, settings, encoder))
        started = time.perf_counter()
        counts = fill(app.extensions["kb.db"], args.searches, args.days)
        filled_s = time.perf_counter() - started
        client = app.test_client()
        sign_in(client, "admin@bench.example")
        today = utcnow().date()
        first = (today - timedelta(days=27)).isoformat()
        before_rollup = timed(client, f"/desk/insights/?from={first}&to={today}", 1)
        started = time.perf_counter()
        with app.extensions["kb.db"]() as db:
            rolled = roll_up(db)
        rollup_s = time.perf_counter() - started
        ranges = {"28 days": 28, "90 days": 90, "whole history": args.days + 1}
        results = {"recorded": counts, "fill_s": round(filled_s, 1), "page_28_days_before_rollup": before_rollup,
                   "days_rolled_up": rolled, "rollup_s": round(rollup_s, 1),
                   "database_mb": round((root / "kb.sqlite3").stat().st_size / 2**20, 1), "page": {}}
        for name, days in ranges.items():
            first = (today - timedelta(days=days - 1)).isoformat()
            results["page"][name] = timed(client, f"/desk/insights/?from={first}&to={today}", args.repeat)
        first = (today - timedelta(days=args.days)).isoformat()
        results["csv_top_searches_whole_history"] = timed(
            client, f"/desk/insights/top_searches.csv?from={first}&to={today}", args.repeat)
    for name, figures in results["page"].items():
        print(f"insights page, {name}: best {figures['best_s']} s, median {figures['median_s']} s")
    print(f"top searches CSV, whole history: {results['csv_top_searches_whole_history']}")
    print(f"before the rollup, 28 days: {results['page_28_days_before_rollup']}; rolling up {rolled} days took "
          f"{results['rollup_s']} s")
    print(f"{counts['searches']} searches recorded ({results['database_mb']} MB), filled in {results['fill_s']} s")
    write_report(OUT, results)


if __name__ == "__main__":
    main()
