"""How fast /api/v1 answers a token's requests over many tickets, on SQLite.

    .venv/bin/python bench/api_v1.py [--tickets 50000] [--repeat 200]

A SQLite database (a real file, the schema from the migrations) is filled with `--tickets` tickets of 50 customers
(a third with two further events), statuses and categories spread evenly. The sample help center is built with the
stand-in encoder of tests/fakes.py. With an agent's read token, through Flask's test client (no network), each of
these is timed `--repeat` times, p50 and p95: the first page of the ticket list (100 tickets), a page deep in the
cursor's walk, a page filtered by status and category, one ticket with its history, and an article; and the token
check alone (`authenticate_token`: one indexed look-up and a SHA-256). Also the time to walk the whole list with
the cursor, 100 a page. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import insert, select  # noqa: E402

from bench.report import write_report  # noqa: E402
from indexer.build import build_index  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.helpdesk.accounts import add_organisation, add_staff, add_user  # noqa: E402
from kb.helpdesk.api_tokens import authenticate_token, create_token  # noqa: E402
from kb.helpdesk.models import STATUSES, Ticket, TicketEvent, utcnow  # noqa: E402
from search.service import SearchService  # noqa: E402
from tests.fakes import HashingEncoder  # noqa: E402
from tests.portal import PASSWORD, make_app  # noqa: E402

OUT = ROOT / "bench" / "out" / "api_v1.json"
CATEGORIES = ["printers", "accounts", "remote-access", "email", "devices"]


def fill(sessions, tickets: int, seed: int = 5) -> tuple[str, str]:
    """The tickets; (an agent's read token, a ticket's reference)."""
    rng = random.Random(seed)
    now = utcnow()
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        customers = [add_user(db, f"c{n}@acme.example", PASSWORD, "Acme", "member") for n in range(50)]
        agent = add_staff(db, "agent@bench.example", PASSWORD, "agent", "general")
        db.flush()
        customer_ids, org = [c.id for c in customers], customers[0].organisation_id
        token = create_token(db, agent, "read", "bench")[1]
    engine = sessions.kw["bind"]
    with engine.begin() as connection:
        rows = []
        for n in range(tickets):
            at = now - timedelta(minutes=tickets - n)
            rows.append({"ref": f"KB-{n:08d}", "organisation_id": org, "customer_id": rng.choice(customer_ids),
                         "subject": f"Problem {n}", "description": "It does not work " * 5,
                         "category": CATEGORIES[n % len(CATEGORIES)], "predicted_category": "",
                         "agent_group": "general", "status": STATUSES[n % len(STATUSES)], "deflection": {},
                         "created_at": at, "updated_at": at, "last_customer_at": at})
        connection.execute(insert(Ticket), rows)
        ids = list(connection.scalars(select(Ticket.id).order_by(Ticket.id)))
        events = [{"ticket_id": i, "kind": "submitted", "author_kind": "customer", "body": "",
                   "status_to": "submitted", "created_at": now} for i in ids]
        events += [{"ticket_id": i, "kind": "reply", "author_kind": "agent", "body": "Try this " * 10,
                    "status_to": None, "created_at": now} for i in ids[::3] for _ in range(2)]
        connection.execute(insert(TicketEvent), events)
    return token, f"KB-{tickets // 2:08d}"


def timed(client, path: str, token: str, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})
        runs.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    runs.sort()
    return {"p50_ms": round(statistics.median(runs) * 1000, 2), "p95_ms": round(runs[int(len(runs) * 0.95)] * 1000, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings = Settings(articles_dir=ROOT / "articles", index_dir=root / "index", embedding_model="fake-hashing",
                            database_url=f"sqlite:///{root / 'kb.sqlite3'}", secret_key="b" * 32,
                            secret_key_file=root / "key", analytics="off", rate_limit_api="1000000/minute")
        encoder = HashingEncoder()
        build_index(settings, encoder)
        service = SearchService.load(settings.index_dir, settings, encoder)
        app = make_app(settings, service)
        token, ref = fill(app.extensions["kb.db"], args.tickets)
        client = app.test_client()
        first = client.get("/api/v1/tickets?limit=100", headers={"Authorization": f"Bearer {token}"}).get_json()
        deep = str(int(first["next_cursor"]) - args.tickets // 2)
        article = sorted(service.articles)[0]
        results = {"tickets": args.tickets, "repeat": args.repeat, "requests": {
            "list, first page of 100": timed(client, "/api/v1/tickets?limit=100", token, args.repeat),
            "list, a page half-way down": timed(client, f"/api/v1/tickets?limit=100&cursor={deep}", token,
                                                args.repeat),
            "list, status and category": timed(client, "/api/v1/tickets?limit=100&status=resolved&category=email",
                                               token, args.repeat),
            "one ticket with its history": timed(client, f"/api/v1/tickets/{ref}", token, args.repeat),
            "one article": timed(client, f"/api/v1/articles/{article}", token, args.repeat)}}
        runs = []
        with app.extensions["kb.db"]() as db:
            for _ in range(args.repeat):
                start = time.perf_counter()
                assert authenticate_token(db, token) is not None
                runs.append(time.perf_counter() - start)
        results["token check alone p50_ms"] = round(statistics.median(runs) * 1000, 3)
        start, cursor, seen = time.perf_counter(), None, 0
        while True:
            page = client.get("/api/v1/tickets?limit=100" + (f"&cursor={cursor}" if cursor else ""),
                              headers={"Authorization": f"Bearer {token}"}).get_json()
            seen += len(page["tickets"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        results["walk the whole list"] = {"tickets_seen": seen, "seconds": round(time.perf_counter() - start, 2)}
    for name, figures in results["requests"].items():
        print(f"{name}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms")
    print(f"token check alone: p50 {results['token check alone p50_ms']} ms; whole list: "
          f"{results['walk the whole list']}")
    write_report(OUT, results)


if __name__ == "__main__":
    main()
