"""`kb gaps` on a large search log, and how well its grouping by meaning matches real intents.

    .venv/bin/python bench/gaps.py --work /tmp/kbgaps [--searches 1000000] [--keep 40] [--sample 1500] [--repeats 4]

1. A help center: bench/datasets.py's Banking77 center (10 real customer questions per intent), of which only
   `--keep` of the 77 intents keep their article: the others are the content gaps. Built with all-MiniLM-L6-v2.
2. Grouping quality: `--sample` held-out Banking77 queries (not among the articles' questions), half of them from
   the removed intents, are embedded with the service's query encoder and grouped at the threshold derived from
   the index (search/gaps.py, `index_threshold`) and at fixed thresholds for comparison. Against the intents:
   purity (the share of texts in their group's majority intent), inverse purity (the share of each intent's
   texts in its largest group), B-cubed precision, recall and F1, and the number of groups beside the number of
   intents.
3. A SQLite database with `--searches` recorded searches over 60 days (executemany in batches): each query text
   of the held-out queries drawn with Zipf-like frequencies; searches for removed intents are never confident,
   the others confident 4 times in 5; 1 search in 100 is followed by a ticket ('ticket_filed'), and 2,000
   tickets without suggestions. Then `kb gaps` is timed end to end as a subprocess (process start, settings,
   database, model and index loading, grouping, the closest articles), over the last 30 days and over all 60:
   first with an empty vector cache, then warm, then (`--repeats` - 1 times) from an empty cache again after one
   upkeep pass of a serving process (search/gap_upkeep.py, run in this process as at the last recorded search),
   each run's count of texts it embedded itself read from `kb gaps --verbose`.
   `--skip-grouping` leaves out step 2 (with `--reuse`: only the timings of step 3, on what an earlier run left).

Writes bench/out/gaps.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

sys.dont_write_bytecode = True
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.datasets import generate  # noqa: E402
from bench.report import write_report  # noqa: E402

OUT_FILE = ROOT / "bench" / "out" / "gaps.json"
MODEL = "all-MiniLM-L6-v2"
END = datetime(2026, 11, 30)
DAYS = 60
BATCH = 50_000
FIXED = (0.4, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8)


def stamp(when: datetime) -> str:
    """A time as SQLAlchemy writes a DateTime into SQLite."""
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


CACHE: dict[str, Path] = {}  # the model cache folder of this run (--work/models): the ONNX export, gap vectors


def settings(index: Path):
    from kb.config import Settings

    return Settings(index_dir=index, embedding_model=MODEL, model_cache_dir=CACHE["dir"])


def kb(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    """The kb command of this checkout, run as `python -m kb` from its folder."""
    return subprocess.run([sys.executable, "-m", "kb", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "KB_EMBEDDING_MODEL": MODEL,
                               "KB_MODEL_CACHE_DIR": str(CACHE["dir"]), **(env or {})})


def help_center(work: Path, keep: int, seed: int, reuse: bool) -> tuple[Path, set[str], list[dict]]:
    """Generate Banking77, keep `keep` intents' articles, build; (index, removed article ids, held-out rows).
    With `reuse`, the help center and index an earlier run left in `work`."""
    folder = work / "banking77"
    index = folder / "index"

    def rows() -> list[dict]:
        return [json.loads(line) for line in (folder / "eval.jsonl").read_text(encoding="utf-8").splitlines() if line]

    if reuse and index.exists():
        kept = {p.stem for p in (folder / "articles").glob("*/*.md")}
        every = {r["expected"] for r in rows() if r["expected"]}
        return index, every - kept, [r for r in rows() if r["expected"]]
    generate("banking77", folder, seed=seed, ood=0)
    articles = sorted((folder / "articles").glob("*/*.md"))
    kept = set(random.Random(seed).sample([p.stem for p in articles], keep))
    for path in articles:
        if path.stem not in kept:
            path.unlink()
    removed = {p.stem for p in articles} - kept
    start = time.perf_counter()
    built = kb("build", "--articles", folder / "articles", "--index", index)
    if built.returncode:
        raise SystemExit(f"kb build failed:\n{built.stderr[-2000:]}")
    print(f"built {keep} articles in {time.perf_counter() - start:.0f} s: {built.stdout.strip()}", flush=True)
    return index, removed, [r for r in rows() if r["expected"]]


def grouping_quality(index: Path, rows: list[dict], removed: set[str], sample: int, seed: int) -> dict:
    from search.gaps import group_texts, index_threshold
    from search.service import SearchService

    rng = random.Random(seed)
    gap_rows = [r for r in rows if r["expected"] in removed]
    other_rows = [r for r in rows if r["expected"] not in removed]
    chosen = rng.sample(gap_rows, sample // 2) + rng.sample(other_rows, sample - sample // 2)
    service = SearchService.load(index, settings(index))
    start = time.perf_counter()
    derived = index_threshold(service)
    derive_seconds = time.perf_counter() - start
    vectors = service.embed_queries([r["query"] for r in chosen])
    labels = [r["expected"] for r in chosen]
    result = {"texts": len(chosen), "intents": len(set(labels)), "derived_threshold": round(derived, 4),
              "derive_seconds": round(derive_seconds, 2)}
    for threshold in (derived, *FIXED):
        groups = group_texts(vectors, [1] * len(chosen), threshold)
        key = "derived" if threshold == derived else f"fixed {threshold}"
        result[key] = {"threshold": round(threshold, 4), **scores(groups, labels)}
        print(f"grouping at {key} ({threshold:.3f}): {result[key]}", flush=True)
    service.close()
    return result


def scores(groups: list[list[int]], labels: list[str]) -> dict:
    """Purity, inverse purity and B-cubed precision / recall / F1 of `groups` against `labels`."""
    n = len(labels)
    group_of = {i: g for g, rows in enumerate(groups) for i in rows}
    purity = sum(Counter(labels[i] for i in rows).most_common(1)[0][1] for rows in groups) / n
    by_label: dict[str, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        by_label[label].append(i)
    inverse = sum(Counter(group_of[i] for i in rows).most_common(1)[0][1] for rows in by_label.values()) / n
    precision = recall = 0.0
    for i in range(n):
        same_group = groups[group_of[i]]
        same_label = by_label[labels[i]]
        both = sum(labels[j] == labels[i] for j in same_group)
        precision += both / len(same_group)
        recall += both / len(same_label)
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"groups": len(groups), "purity": round(purity, 4), "inverse_purity": round(inverse, 4),
            "bcubed_precision": round(precision, 4), "bcubed_recall": round(recall, 4), "bcubed_f1": round(f1, 4)}


def seed_database(path: Path, rows: list[dict], removed: set[str], searches: int, seed: int) -> float:
    """The searches, ticket events and tickets described in the module doc; seconds taken."""
    from kb.helpdesk.accounts import add_organisation, add_user
    from kb.helpdesk.db import open_database

    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    _, sessions = open_database(url)
    with sessions.begin() as db:
        add_organisation(db, "Bench")
        user = add_user(db, "bench@example.com", "bench-password", "Bench", "member")
        db.flush()
        user_id = user.id
    sessions.kw["bind"].dispose()  # no pooled connection stays open while sqlite3 writes below
    start = time.perf_counter()
    rng = random.Random(seed)
    texts = [(r["query"], r["expected"] in removed) for r in rows]
    rng.shuffle(texts)
    weights = [1.0 / (rank + 10) for rank in range(len(texts))]  # Zipf-like, with a flat head
    span = DAYS * 86400
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    for batch_start in range(0, searches, BATCH):
        size = min(BATCH, searches - batch_start)
        picked = rng.choices(texts, weights=weights, k=size)
        search_rows, event_rows = [], []
        for n, (text, gap) in enumerate(picked):
            number = batch_start + n
            token = f"{number:032x}"
            when = END - timedelta(seconds=rng.randrange(span))
            confident = not gap and rng.random() < 0.8
            search_rows.append((token, stamp(when), "portal", f"v:{rng.randrange(200_000)}", text, "",
                                "en", 3 if confident else 0, "", 0.7 if confident else 0.2, confident, ""))
            if number % 100 == 0:
                event_rows.append(("ticket_filed", stamp(when), "", token, "", None, None, "KB-BENCH"))
        con.executemany("INSERT INTO searches (token, created_at, source, visitor, query, searched, lang, results, "
                        "top_article, confidence, confident, category) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        search_rows)
        con.executemany("INSERT INTO analytics_events (kind, created_at, visitor, search_token, article_id, "
                        "position, value, ticket_ref) VALUES (?,?,?,?,?,?,?,?)", event_rows)
        con.commit()
    tickets = []
    for n in range(2000):
        text, _ = rng.choice(texts)
        when = stamp(END - timedelta(seconds=rng.randrange(span)))
        deflection = json.dumps({"query": text, "category": "", "confidence": 0.1, "shown": [], "search": ""})
        tickets.append((f"KB-B{n:07d}", user_id, text[:200], text, deflection, when, when, when))
    con.executemany("INSERT INTO tickets (ref, customer_id, subject, description, category, predicted_category, "
                    "agent_group, status, deflection, created_at, updated_at, last_customer_at) "
                    "VALUES (?,?,?,?,'','','','submitted',?,?,?,?)", tickets)
    con.commit()
    con.close()
    return time.perf_counter() - start


def profile_gaps(database: Path, index: Path, since: datetime) -> dict:
    """The steps of `kb gaps` timed one by one in this process (the model and index loaded once more here), without
    the vector cache: every text embedded."""
    from kb.helpdesk.db import open_database
    from kb.helpdesk.gap_sources import SEARCH_TEXTS, TICKET_TEXTS, failed_searches, unanswered_tickets
    from search.gaps import find_gaps, group_texts, index_threshold
    from search.service import SearchService

    marks = [("start", time.perf_counter())]
    engine, sessions = open_database(f"sqlite:///{database}")
    with sessions() as db:
        texts = failed_searches(db, since, limit=SEARCH_TEXTS) + unanswered_tickets(db, since, limit=TICKET_TEXTS)
    engine.dispose()
    marks.append(("database", time.perf_counter()))
    service = SearchService.load(index, settings(index))
    marks.append(("load_index_and_model", time.perf_counter()))
    threshold = index_threshold(service)
    marks.append(("threshold", time.perf_counter()))
    vectors = service.embed_queries([t.text for t in texts])
    marks.append(("embed_texts", time.perf_counter()))
    groups = group_texts(vectors, [t.count for t in texts], threshold)
    marks.append(("group", time.perf_counter()))
    found = find_gaps(service, texts, threshold, limit=20)  # the vectors are cached: this is grouping and searching
    marks.append(("find_gaps_top_20", time.perf_counter()))
    # Again in the same process, as a server that keeps the service loaded would: the database read again, the
    # threshold read again, the texts' vectors from the service's own cache.
    engine, sessions = open_database(f"sqlite:///{database}")
    with sessions() as db:
        texts = failed_searches(db, since, limit=SEARCH_TEXTS) + unanswered_tickets(db, since, limit=TICKET_TEXTS)
    find_gaps(service, texts, limit=20)
    engine.dispose()
    marks.append(("again_in_a_loaded_process", time.perf_counter()))
    service.close()
    steps = {name: round(t - marks[n][1], 3) for n, (name, t) in enumerate(marks[1:])}
    return {"texts": len(texts), "groups": len(groups), "gaps": len(found), "seconds": steps}


def count_searches(database: Path) -> int:
    with sqlite3.connect(database) as con:
        return int(con.execute("SELECT count(*) FROM searches").fetchone()[0])


def migrate(database: Path) -> float:
    from kb.helpdesk.db import make_engine, upgrade

    start = time.perf_counter()
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    engine.dispose()
    return round(time.perf_counter() - start, 1)


def run_gaps(database: Path, index: Path, since: str) -> tuple[float, subprocess.CompletedProcess, dict]:
    """One `kb gaps --json --verbose`: (seconds, the process, its summary: texts, embedded, cached)."""
    start = time.perf_counter()
    output = kb("gaps", "--since", since, "--json", "--verbose", "--limit", "20", "--index", index,
                "--database", f"sqlite:///{database}")
    seconds = time.perf_counter() - start
    if output.returncode:
        raise SystemExit(f"kb gaps failed:\n{output.stderr[-2000:]}")
    return seconds, output, json.loads(output.stderr.strip().splitlines()[-1])


def clear_cache() -> None:
    for stale in CACHE["dir"].glob("gap-vectors-*.npz"):
        stale.unlink()


def time_gaps(database: Path, index: Path, since: str, repeats: int) -> dict:
    """`kb gaps` run `repeats` times: the first with an empty vector cache (every text embedded), then warm."""
    clear_cache()
    seconds, embedded = [], []
    output = None
    for _ in range(repeats):
        took, output, summary = run_gaps(database, index, since)
        seconds.append(took)
        embedded.append(summary["embedded"])
    groups = [json.loads(line) for line in output.stdout.splitlines() if line.strip()]
    return {"since": since, "cold_seconds": round(seconds[0], 2), "warm_seconds": [round(s, 2) for s in seconds[1:]],
            "warm_median": round(statistics.median(seconds[1:]), 2) if seconds[1:] else None,
            "texts": summary["texts"], "embedded_per_run": embedded, "groups_printed": len(groups),
            "top": groups[:3]}


def time_after_upkeep(database: Path, index: Path, since: str, repeats: int) -> dict:
    """`kb gaps`' first run after one upkeep pass of a serving process (search/gap_upkeep.py, web/gap_worker.py),
    `repeats` times from an empty vector cache. The pass runs here, at full priority, as at END: as if the server's
    last pass came after the last recorded search."""
    from kb.helpdesk.db import open_database
    from search.gap_upkeep import warm_gap_vectors
    from search.service import SearchService

    engine, sessions = open_database(f"sqlite:///{database}", migrate=False)
    service = SearchService.load(index, settings(index))
    upkeep, first, embedded = [], [], []
    for _ in range(repeats):
        clear_cache()
        start = time.perf_counter()
        done = warm_gap_vectors(sessions, service, CACHE["dir"], now=END)
        upkeep.append(time.perf_counter() - start)
        took, _, summary = run_gaps(database, index, since)
        first.append(took)
        embedded.append(summary["embedded"])
    service.close()
    engine.dispose()
    return {"since": since, "upkeep_seconds": [round(s, 2) for s in upkeep], "upkeep_texts": done.texts,
            "upkeep_embedded": done.embedded, "first_run_seconds": [round(s, 2) for s in first],
            "first_run_median": round(statistics.median(first), 2), "texts": summary["texts"],
            "embedded_by_kb_gaps": embedded}


def time_sources(database: Path, since: datetime) -> dict:
    from kb.helpdesk.db import open_database
    from kb.helpdesk.gap_sources import SEARCH_TEXTS, TICKET_TEXTS, failed_searches, unanswered_tickets

    engine, sessions = open_database(f"sqlite:///{database}")
    with sessions() as db:
        start = time.perf_counter()
        texts = failed_searches(db, since, limit=SEARCH_TEXTS)
        middle = time.perf_counter()
        tickets = unanswered_tickets(db, since, limit=TICKET_TEXTS)
        end = time.perf_counter()
        every = failed_searches(db, since, limit=10 ** 9)
    engine.dispose()
    total = sum(t.count for t in every)
    return {"failed_searches_seconds": round(middle - start, 3), "unanswered_tickets_seconds": round(end - middle, 3),
            "distinct_failed_texts": len(every), "failed_searches": total, "texts_read": len(texts),
            "share_of_failed_searches_read": round(sum(t.count for t in texts) / total, 4) if total else None,
            "ticket_texts": len(tickets)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--searches", type=int, default=1_000_000)
    parser.add_argument("--keep", type=int, default=40, help="Intents that keep their article (of 77).")
    parser.add_argument("--sample", type=int, default=1500, help="Held-out queries grouped for the quality figures.")
    parser.add_argument("--repeats", type=int, default=4, help="Runs of kb gaps per period: one cold, then warm.")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--skip-grouping", action="store_true", help="Leave out the grouping quality figures.")
    parser.add_argument("--reuse", action="store_true",
                        help="Reuse the help center, index and database an earlier run left in --work.")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    CACHE["dir"] = args.work / "models"
    index, removed, rows = help_center(args.work, args.keep, args.seed, args.reuse)
    result: dict = {"model": MODEL, "articles": 77 - len(removed), "removed_intents": len(removed),
                    "cpus": os.cpu_count(), "load_average_at_start": [round(x, 1) for x in os.getloadavg()]}
    if not args.skip_grouping:
        result["grouping"] = grouping_quality(index, rows, removed, args.sample, args.seed)
    database = args.work / "gaps.sqlite3"
    if not (args.reuse and database.exists()):
        result["seed_seconds"] = round(seed_database(database, rows, removed, args.searches, args.seed), 1)
        print(f"seeded {args.searches} searches in {result['seed_seconds']} s", flush=True)
    result["searches"] = count_searches(database)
    result["migrate_seconds"] = migrate(database)  # once, before timing (an index on a million rows)
    for days in (30, DAYS):
        since = END - timedelta(days=days)
        result[f"sources_{days}d"] = time_sources(database, since)
        result[f"steps_{days}d"] = profile_gaps(database, index, since)
        print(f"{days} days, steps: {result[f'steps_{days}d']}", flush=True)
        result[f"kb_gaps_{days}d"] = time_gaps(database, index, f"{since:%Y-%m-%d}", args.repeats)
        timed = result[f"kb_gaps_{days}d"]
        print(f"{days} days: {result[f'sources_{days}d']} kb gaps cold {timed['cold_seconds']} s, "
              f"warm {timed['warm_seconds']} s, texts embedded {timed['embedded_per_run']}", flush=True)
        result[f"kb_gaps_after_upkeep_{days}d"] = after = time_after_upkeep(database, index, f"{since:%Y-%m-%d}",
                                                                            max(1, args.repeats - 1))
        print(f"{days} days, after an upkeep pass ({after['upkeep_seconds']} s, {after['upkeep_embedded']} texts): "
              f"kb gaps first run {after['first_run_seconds']} s, texts embedded {after['embedded_by_kb_gaps']}",
              flush=True)
    result["load_average"] = [round(x, 1) for x in os.getloadavg()]  # the machine is shared: read the times with it
    write_report(OUT_FILE, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
