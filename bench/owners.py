"""How fast the desk's queue (with its views and the group rule) and the collision notice's report answer on a
large SQLite database.

    .venv/bin/python bench/owners.py [--tickets 100000] [--agents 5] [--repeat 20]

A SQLite database (a real file, the schema from the migrations) gets `--tickets` tickets spread over four agent
groups and 60 days, a third of them owned by one of `--agents` agents, each agent in one group. Timed, the best
and the median of `--repeat` runs: one page of the queue (kb/helpdesk/queue.py, with its view counts) for an agent
with and without `desk_restrict_to_groups`, in each view; and one presence report as the ticket page sends it
every 5 seconds (prune, report, commit, who else is there) with every agent reporting on the same ticket. It
asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from sqlalchemy import insert, select  # noqa: E402

from bench.report import write_report  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.helpdesk.access import visible_tickets  # noqa: E402
from kb.helpdesk.accounts import add_organisation, add_staff, add_user  # noqa: E402
from kb.helpdesk.db import open_database  # noqa: E402
from kb.helpdesk.models import STATUSES, Ticket, User, utcnow  # noqa: E402
from kb.helpdesk.presence import others, prune, report  # noqa: E402
from kb.helpdesk.queue import VIEWS, QueueFilter, queue  # noqa: E402

GROUPS = ("general", "hardware", "identity", "billing")


def timed(run, repeat: int) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return {"best_ms": round(min(times), 2), "median_ms": round(statistics.median(times), 2)}


def fill(factory, tickets: int, agents: int) -> list[int]:
    with factory.begin() as db:
        add_organisation(db, "Acme")
        customer = add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        staff = [add_staff(db, f"agent{i}@desk.example", "password-x", "agent", GROUPS[i % len(GROUPS)], f"Agent {i}")
                 for i in range(agents)]
        ids = [s.id for s in staff]
        now, rng, rows = utcnow(), random.Random(7), []
        for n in range(tickets):
            at = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
            rows.append({"ref": f"KB-{n:08d}", "organisation_id": customer.organisation_id, "customer_id": customer.id,
                         "subject": f"Ticket {n}", "description": "text", "category": "printers",
                         "predicted_category": "printers", "agent_group": rng.choice(GROUPS),
                         "status": rng.choice(STATUSES), "deflection": {}, "created_at": at, "updated_at": at,
                         "last_customer_at": at, "owner_id": rng.choice(ids) if n % 3 == 0 else None})
            if len(rows) == 5000:
                db.execute(insert(Ticket), rows)
                rows = []
        if rows:
            db.execute(insert(Ticket), rows)
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        engine, factory = open_database(f"sqlite:///{Path(folder) / 'kb.sqlite3'}")
        started = time.perf_counter()
        ids = fill(factory, args.tickets, args.agents)
        results = {"tickets": args.tickets, "agents": args.agents, "repeat": args.repeat,
                   "fill_seconds": round(time.perf_counter() - started, 1), "queue": {}, "presence": {}}
        with factory() as db:
            agent = db.get(User, ids[0])
            for restrict in (False, True):
                settings = replace(Settings(), desk_restrict_to_groups=restrict)
                for view in ("",) + VIEWS:
                    def page():
                        queue(db, QueueFilter(view=view), 1, 25, user=agent, visible=visible_tickets(settings, agent))
                    name = f"{'restricted' if restrict else 'all groups'}, view {view or 'all'}"
                    results["queue"][name] = timed(page, args.repeat)
            ticket = db.scalar(select(Ticket).limit(1))
            people = [db.get(User, i) for i in ids]

            def poll():
                for person in people:
                    prune(db)
                    report(db, ticket, person, "viewing")
                    db.commit()
                    others(db, ticket, person)
            results["presence"][f"one report by each of {len(people)} agents"] = timed(poll, args.repeat)
        engine.dispose()
    print(results)
    write_report(ROOT / "bench" / "out" / "owners.json", results)


if __name__ == "__main__":
    main()
