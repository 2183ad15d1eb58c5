"""The desk's queue with SLA order and filters on a large SQLite database, and due times in business hours.

    .venv/bin/python bench/sla_queue.py --work /tmp/kbsla [--tickets 100000] [--repeat 20]

1. A SQLite database (migrated to the head) with `--tickets` tickets over 90 days from 1,000 customers of 100
   organisations, inserted with executemany: statuses 10 % submitted, 10 % in progress, 10 % waiting, 70 %
   resolved; priorities P1..P4 (5/20/50/25 %); due times as `SlaRules` computes them for 24/7 defaults, so some
   open tickets are breached and a few due within the hour.
2. kb/helpdesk/queue.py's first page (25 tickets) timed `--repeat` times for: the default order (least time left
   first), the latest customer message first, breached, due within 1 h, P1 only, and P1 breached; median and p95
   in milliseconds, with SQLite's query plan of the default order.
3. `add_business_time` per call for Mon-Fri 09:00-18:00 in Europe/Sofia, and per ticket for the due times of
   `kb sla refresh`.

Writes bench/out/sla_queue.json.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    from sqlalchemy import insert, text

    from kb.config import Settings
    from kb.helpdesk.db import open_database
    from kb.helpdesk.models import Organisation, Ticket, User
    from kb.helpdesk.queue import QueueFilter, queue
    from kb.helpdesk.sla import add_business_time, parse_business_hours
    from kb.helpdesk.ticket_sla import SlaRules

    args.work.mkdir(parents=True, exist_ok=True)
    path = args.work / "sla.sqlite3"
    path.unlink(missing_ok=True)
    engine, sessions = open_database(f"sqlite:///{path}")
    rules = SlaRules.from_settings(Settings())
    rng = random.Random(7)
    now = datetime(2026, 12, 2, 12, 0)
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(insert(Organisation), [{"id": i, "name": f"Org {i}", "created_at": now}
                                                  for i in range(1, 101)])
        connection.execute(insert(User), [{"id": i, "email": f"c{i}@org{i % 100 + 1}.example", "name": "",
                                           "password_hash": "x", "role": "member", "organisation_id": i % 100 + 1,
                                           "active": True, "agent_group": "", "session_generation": 0,
                                           "language": "", "created_at": now} for i in range(1, 1001)])
        rows = []
        for i in range(1, args.tickets + 1):
            status = rng.choices(("submitted", "in_progress", "waiting_on_customer", "resolved"), (1, 1, 1, 7))[0]
            priority = rng.choices(("P1", "P2", "P3", "P4"), (5, 20, 50, 25))[0]
            created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
            answered = created + timedelta(minutes=rng.randrange(600)) if status != "submitted" else None
            first_due = rules.due(created, priority, rules.first_response)
            resolution_due = rules.due(created, priority, rules.resolution)
            ticket = {"id": i, "ref": f"KB-{i:08d}", "organisation_id": i % 100 + 1, "customer_id": i % 1000 + 1,
                      "subject": f"Ticket {i}", "description": "text", "category": rng.choice(("vpn", "email")),
                      "predicted_category": "", "agent_group": "", "status": status, "deflection": {},
                      "created_at": created, "updated_at": created, "last_customer_at": created,
                      "idempotency_key": None, "priority": priority, "predicted_priority": priority,
                      "first_response_due": first_due, "first_response_at": answered,
                      "resolution_due": resolution_due, "resolved_at": created if status == "resolved" else None}
            ticket["sla_due_at"] = (None if status == "resolved" else first_due if answered is None
                                    else resolution_due)
            rows.append(ticket)
            if len(rows) == 5000:
                connection.execute(insert(Ticket), rows)
                rows = []
        if rows:
            connection.execute(insert(Ticket), rows)
        connection.execute(text("ANALYZE"))
    figures: dict = {"tickets": args.tickets, "insert_s": round(time.perf_counter() - started, 1), "queue_ms": {}}
    # The tickets are two hours "older" relative to now than filed: the queue's clock is the bench's `now`.
    cases = {"default (least time left)": QueueFilter(), "latest customer message": QueueFilter(sort="recent"),
             "breached": QueueFilter(sla="breached"), "due within 1 h": QueueFilter(sla="soon"),
             "P1": QueueFilter(priority="P1"), "P1 breached": QueueFilter(priority="P1", sla="breached")}
    with sessions() as db:
        for name, chosen in cases.items():
            times, total = [], 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                found = queue(db, chosen, page=1, size=25, now=now)
                times.append((time.perf_counter() - t0) * 1000)
                total = found.total
                db.expunge_all()
            times.sort()
            figures["queue_ms"][name] = {"matching": total, "median": round(statistics.median(times), 1),
                                         "p95": round(times[int(0.95 * (len(times) - 1))], 1)}
            print(f"{name:28} {total:>7} tickets  median {figures['queue_ms'][name]['median']:7.1f} ms  "
                  f"p95 {figures['queue_ms'][name]['p95']:7.1f} ms")
        plan = db.execute(text(
            "EXPLAIN QUERY PLAN SELECT id FROM tickets WHERE sla_due_at < :now ORDER BY CASE WHEN status IN "
            "('submitted', 'in_progress') THEN 0 WHEN status = 'waiting_on_customer' THEN 1 ELSE 2 END, "
            "sla_due_at IS NULL, sla_due_at LIMIT 25"), {"now": now}).all()
        figures["breached_plan"] = [row[-1] for row in plan]
        print("plan (breached):", "; ".join(figures["breached_plan"]))
    engine.dispose()

    sofia = parse_business_hours("Mon-Fri 09:00-18:00", "Europe/Sofia")
    starts = [now - timedelta(minutes=rng.randrange(90 * 24 * 60)) for _ in range(20_000)]
    t0 = time.perf_counter()
    for start in starts:
        add_business_time(start, timedelta(hours=24), sofia)
    figures["add_business_time_us"] = round((time.perf_counter() - t0) / len(starts) * 1e6, 1)
    print(f"add_business_time (24 business hours, Mon-Fri 09-18 Sofia): {figures['add_business_time_us']} µs a call")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sla_queue.json").write_text(json.dumps(figures, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
