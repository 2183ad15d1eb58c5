"""The desk's queue page at 100,000 tickets, on SQLite and on PostgreSQL.

    .venv/bin/python bench/desk_queue.py [--tickets 100000] [--runs 30] [--work /tmp/kbqueue] [--only sqlite|postgresql]

1. Seeds a database: 40 organisations, 2,000 customers, `--tickets` tickets filed over 180 days with realistic
   subjects and descriptions in English, Russian and Ukrainian (a third each; 1 in 50 subjects typed in the wrong
   keyboard layout, stored with its fix as filing stores it), 8 categories routed to 5 agent groups, the four
   statuses (45% resolved), and 0 to 4 replies each from agents and customers. Rows are inserted in batches with
   executemany (the ORM would take hours), and each ticket's search terms are computed with the very function
   filing uses (kb/helpdesk/ticket_search.py `ticket_terms`).
2. Renders `/desk/` through Flask's test client as a signed-in agent, `--runs` times per filter after two warm-up
   requests: the default queue, by status, category, group, age, search texts in each language, a search with a
   filter, and a later page. The search service is a stub answering the categories (the queue asks it nothing
   else). Reports p50/p95 (ms) per filter and database as a table; writes bench/out/queue.json.

PostgreSQL is a throw-away server in a temporary folder (as tests/conftest.py starts one), when its binaries are
installed. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's folder comes first on the path, where its name would hide the standard library's
# `queue` module (psycopg imports it): the project's root takes that place.
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.desk_queue_texts import CATEGORIES, GROUPS, ticket_text  # noqa: E402

OUT = ROOT / "bench" / "out"
PASSWORD = "bench-password-1"
STATUSES = ["submitted"] * 20 + ["in_progress"] * 20 + ["waiting_on_customer"] * 15 + ["resolved"] * 45
FILTERS = {
    "default": "", "status": "status=in_progress", "category": "category=printers", "group": "group=network",
    "age": "age=%3E7d", "search en": "q=printer+offline", "search ru": "q=принтер+не+печатает",
    "search uk": "q=не+друкує", "search + status": "q=vpn&status=resolved", "search, rare word": "q=toner",
    "page 40": "page=40",
}


class CategoriesOnly:
    """The search service as the queue page uses it: the categories' titles."""

    def __init__(self) -> None:
        self.categories = {c: {"title": c.title()} for c in CATEGORIES}
        self.articles: dict = {}

    def visible_categories(self, audience: str = "public"):
        return self.categories

    def close(self) -> None:
        pass


def seed(url: str, tickets: int, seed_value: int = 7) -> float:
    """Fill an empty database at `url`; the seconds it took."""
    from sqlalchemy import insert

    from kb.helpdesk.accounts import add_staff
    from kb.helpdesk.db import open_database
    from kb.helpdesk.models import Organisation, Ticket, TicketEvent, User
    from kb.helpdesk.ticket_search import ticket_terms
    from kb.helpdesk.ticket_search_models import TicketSearch

    started = time.perf_counter()
    rng = random.Random(seed_value)
    engine, sessions = open_database(url)
    now = datetime(2026, 12, 1, 12, 0)
    with sessions.begin() as db:
        add_staff(db, "agent@bench.example", PASSWORD, "agent", "general", "Agent")
        db.execute(insert(Organisation), [{"id": i, "name": f"Organisation {i}", "created_at": now}
                                          for i in range(1, 41)])
        db.execute(insert(User), [{"id": 100 + i, "email": f"customer{i}@org{i % 40 + 1}.example",
                                   "password_hash": "x", "role": "member", "organisation_id": i % 40 + 1}
                                  for i in range(2000)])
    batch, event_id = 2000, 1
    for start in range(0, tickets, batch):
        rows, events, terms = [], [], []
        for n in range(start, min(start + batch, tickets)):
            made = ticket_text(rng)
            created = now - timedelta(minutes=rng.randrange(180 * 24 * 60))
            customer = 100 + rng.randrange(2000)
            last = created + timedelta(minutes=rng.randrange(1, 600) * len(made.replies))
            rows.append({"id": n + 1, "ref": f"KB-{n + 1:08d}", "organisation_id": (customer - 100) % 40 + 1,
                         "customer_id": customer, "subject": made.subject, "subject_fixed": made.subject_fixed,
                         "description": made.description, "category": made.category,
                         "predicted_category": made.category, "agent_group": GROUPS[made.category],
                         "status": rng.choice(STATUSES), "deflection": {}, "created_at": created,
                         "updated_at": last, "last_customer_at": last})
            bodies = [("submitted", "customer", "")] + [("reply", who, body) for who, body in made.replies]
            for i, (kind, who, body) in enumerate(bodies):
                events.append({"id": event_id, "ticket_id": n + 1, "kind": kind, "author_kind": who,
                               "author_id": customer if who == "customer" else 1, "body": body,
                               "status_to": "submitted" if kind == "submitted" else None,
                               "created_at": created + timedelta(minutes=i)})
                event_id += 1
            terms.append({"ticket_id": n + 1, "terms": ticket_terms(
                [made.subject, made.subject_fixed, made.description, *(b for _, b in made.replies)])})
        with sessions.begin() as db:
            db.execute(insert(Ticket), rows)
            db.execute(insert(TicketEvent), events)
            db.execute(insert(TicketSearch), terms)
        print(f"  {min(start + batch, tickets):,} tickets", end="\r", file=sys.stderr)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def measure(url: str, runs: int) -> dict[str, dict[str, float]]:
    from kb.config import Settings
    from web import create_app

    work = Path(tempfile.mkdtemp(prefix="kb-queue-app-"))
    settings = Settings(database_url=url, secret_key="k" * 32, secret_key_file=work / "secret_key",
                        attachments_dir=work / "attachments", index_dir=work / "index")
    app = create_app(settings, CategoriesOnly())
    app.testing = True
    client = app.test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    token = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    signed = client.post("/sign-in", data={"csrf_token": token, "email": "agent@bench.example",
                                           "password": PASSWORD})
    assert signed.status_code == 302, signed.status_code
    results = {}
    for name, query in FILTERS.items():
        path = "/desk/" + (f"?{query}" if query else "")
        for _ in range(2):
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        shown = response.get_data(as_text=True).count("<tr data-ref=")
        times.sort()
        results[name] = {"p50": round(statistics.median(times), 1),
                         "p95": round(times[min(len(times) - 1, int(0.95 * len(times)))], 1), "shown": shown}
        print(f"  {name:<18} p50 {results[name]['p50']:>7} ms  p95 {results[name]['p95']:>7} ms", file=sys.stderr)
    app.extensions["kb.engine"].dispose()
    shutil.rmtree(work, ignore_errors=True)
    return results


def _postgres_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


@contextmanager
def postgres():
    """A throw-away PostgreSQL server (as tests/conftest.py's `postgres_url`): its URL, or None without one."""
    initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
    if not initdb or not pg_ctl:
        yield None
        return
    as_postgres = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_postgres else []
    folder = Path(tempfile.mkdtemp(prefix="kb-pg-bench-"))
    folder.chmod(0o755)
    data = folder / "data"
    data.mkdir()
    if as_postgres:
        shutil.chown(data, "postgres", "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    subprocess.run([*prefix, initdb, "-D", str(data), "-U", "kb", "--auth=trust", "-E", "UTF8"], check=True,
                   capture_output=True)
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-l", str(data / "log"), "-w", "-o",
                    f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off", "start"], check=True,
                   capture_output=True)
    try:
        yield f"postgresql+psycopg://kb@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


def table(results: dict[str, dict], tickets: int) -> str:
    databases = list(results)
    lines = [f"Queue page `/desk/` at {tickets:,} tickets, ms (p50 / p95)", "",
             "| filter | " + " | ".join(databases) + " |", "|---|" + "---|" * len(databases)]
    for name in FILTERS:
        cells = [f"{results[d]['filters'][name]['p50']} / {results[d]['filters'][name]['p95']}" for d in databases]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("| (seeding, s) | " + " | ".join(str(round(results[d]["seed_seconds"])) for d in databases) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "kbqueue")
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # (stopped: the PostgreSQL server is stopped too)
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    if args.only in (None, "sqlite"):
        db_file = args.work / "queue.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{db_file}"
        print("sqlite: seeding", file=sys.stderr)
        seconds = seed(url, args.tickets)
        results["SQLite"] = {"seed_seconds": seconds, "filters": measure(url, args.runs)}
    if args.only in (None, "postgresql"):
        with postgres() as url:
            if url is None:
                print("no PostgreSQL server binaries: PostgreSQL skipped", file=sys.stderr)
            else:
                print("postgresql: seeding", file=sys.stderr)
                seconds = seed(url, args.tickets)
                results["PostgreSQL"] = {"seed_seconds": seconds, "filters": measure(url, args.runs)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "queue.json").write_text(json.dumps({"tickets": args.tickets, "runs": args.runs, "results": results},
                                               indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results, args.tickets))


if __name__ == "__main__":
    main()
