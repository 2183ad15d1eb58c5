"""Deflection: what the contact form would show for the development set of customer phrasings.

    .venv/bin/python bench/deflection.py [--models all-MiniLM-L6-v2 multilingual-e5-small]

The queries (bench/data/dev_questions.jsonl) are customer phrasings for the sample help center: everyday,
vague, long, keyword-style, with typos, typed in the wrong keyboard layout or transliterated, in English,
Russian, Ukrainian and Bulgarian, and out-of-scope questions no article answers. For every embedder the whole
sample help center (every language) is built into its own temporary index, and each row is searched as the
contact form searches it (web/suggestions.py: k=3, the reader's language being the row's language).
all-MiniLM-L6-v2 reads English only: its index holds the Russian articles too, so its figures for Cyrillic
queries measure mostly the keyword side and the layout and spelling fixes.

Reported per language and per kind. For answerable rows: top-1 (the first hit answers), top-3 (an answering
article in the search's list of at most 3, which stops where relevance falls off with the suggestions' margin
and share: search/cutoff.py), confident
share and shown share (top-3 AND the answer confident: the form lists the answer among its suggestions). For
out-of-scope rows: the share answered confidently (the form would offer something wrong). It asserts nothing:
it measures.

With `--public-oos N`, N queries of each public data set (Banking77: online banking; Bitext: e-commerce; from
`../shared/data` or `--data`) are searched the same way, in English: another business's customers, whose questions
this IT help center does not answer. The few intents it does answer (an invoice, a forgotten password, how to
reach support, payment methods: PUBLIC_ANSWERED) are left out before sampling. Reported: the share offered
confidently, per data set, and the intents offered most.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.datasets import DEFAULT_DATA_DIR, load_queries  # noqa: E402
from bench.multilingual import built_service, load_rows  # noqa: E402
from bench.report import write_report  # noqa: E402
from search.service import SearchResponse, SearchService  # noqa: E402

QUERIES = ROOT / "bench" / "data" / "dev_questions.jsonl"
FORM_K = 3  # web/suggestions.py MAX_SUGGESTIONS
ANSWERABLE = ("top1", "top3", "confident", "shown")
# Public data sets' intents the sample help center does answer (articles on invoices, passwords, contacting support,
# payment methods, signing in): their queries are not out of scope here.
PUBLIC_ANSWERED = {
    "banking77": {"passcode_forgotten"},
    "bitext": {"check_invoice", "get_invoice", "contact_customer_service", "contact_human_agent",
               "recover_password", "check_payment_methods", "payment_issue", "registration_problems"},
}


def form_search(service: SearchService, text: str, lang: str) -> SearchResponse:
    """`text` searched as the contact form searches it (web/suggestions.py): at most FORM_K suggestions, cut with
    the suggestions' own margin and share, for a reader of language `lang`."""
    return service.search(text, k=FORM_K, lang=lang, cosine_margin=service.settings.suggest_cosine_margin,
                          score_share=service.settings.suggest_score_share)


def outcome(service: SearchService, row: dict) -> dict:
    text = " ".join(row["query"].split())[:service.settings.max_query_chars]
    response = form_search(service, text, row["lang"])
    groups = [service.articles[h.id].group for h in response.hits]
    expected = set(row["expected"])
    top3 = any(g in expected for g in groups[:FORM_K])
    return {"top1": bool(groups) and groups[0] in expected, "top3": top3, "confident": response.confident,
            "shown": top3 and response.confident,
            "first": groups[0] if groups else None, "corrected": response.corrected}


def evaluate(service: SearchService, rows: list[dict]) -> dict:
    groups = {a.group for a in service.articles.values()}
    unknown = sorted({e for r in rows for e in r["expected"]} - groups)
    if unknown:
        raise SystemExit(f"{QUERIES}: expected articles not in the index: {', '.join(unknown)}")
    service.prime([" ".join(r["query"].split()) for r in rows])
    tallies: dict[str, dict[str, dict]] = {"lang": {}, "kind": {}, "all": {}}
    misses = []
    for row in rows:
        result = outcome(service, row)
        answerable = bool(row["expected"])
        for axis, key in (("lang", row["lang"]), ("kind", row["kind"]),
                          ("all", "answerable" if answerable else "out-of-scope")):
            if axis == "lang" and not answerable:
                key = f"{key}/out-of-scope"
            stats = tallies[axis].setdefault(key, {"queries": 0, **({m: 0 for m in ANSWERABLE} if answerable
                                                                     else {"shown_confidently": 0})})
            stats["queries"] += 1
            if answerable:
                for measure in ANSWERABLE:
                    stats[measure] += result[measure]
            else:
                stats["shown_confidently"] += result["confident"] and bool(result["first"])
        if answerable and not result["shown"] or not answerable and result["confident"] and result["first"]:
            misses.append({**row, "first": result["first"], "confident": result["confident"],
                           "corrected": result["corrected"]})
    for axis in tallies.values():
        for stats in axis.values():
            for key in list(stats):
                if key != "queries":
                    stats[key] = round(stats[key] / stats["queries"], 3)
    return {**tallies, "misses": misses}


def public_sample(name: str, per_set: int, data_dir: Path = DEFAULT_DATA_DIR, seed: int = 7,
                  answered: set[str] | None = None) -> list:
    """`per_set` queries of public data set `name` drawn at random (`seed`), leaving out the intents the help center
    answers (`answered`; the sample help center's, PUBLIC_ANSWERED, by default)."""
    answered = PUBLIC_ANSWERED[name] if answered is None else answered
    pool = [q for q in load_queries(name, data_dir) if q.intent not in answered]
    return random.Random(seed).sample(pool, min(per_set, len(pool)))


def public_out_of_scope(service: SearchService, per_set: int, data_dir: Path, seed: int = 7) -> dict:
    """Per public data set: how many of `per_set` sampled queries (intents the help center answers left out) the
    contact form would offer an article for confidently, and the intents offered most."""
    figures = {}
    for name in PUBLIC_ANSWERED:
        sample = public_sample(name, per_set, data_dir, seed)
        service.prime([q.text for q in sample])
        offered = Counter()
        for query in sample:
            response = form_search(service, query.text, "en")
            if response.confident and response.hits:
                offered[query.intent] += 1
        figures[name] = {"queries": len(sample), "shown_confidently": round(sum(offered.values()) / len(sample), 3),
                         "most_offered": offered.most_common(5)}
    return figures


def run(model: str, work: Path, rows: list[dict], public_oos: int = 0, data_dir: Path = DEFAULT_DATA_DIR) -> dict:
    service, _encoder, report, build_seconds = built_service(model, ROOT / "articles", work)
    started = time.perf_counter()
    result = evaluate(service, rows)
    if public_oos:
        result["public_out_of_scope"] = public_out_of_scope(service, public_oos, data_dir)
    result.update(build_seconds=round(build_seconds, 1), passages=report.passages, embedded=report.embedded,
                  search_seconds=round(time.perf_counter() - started, 1))
    return result


def print_table(results: dict) -> None:
    print(f"\n{'model':24s} {'group':22s} {'n':>4s}  {'top1':>5s} {'top3':>5s} {'conf':>5s} {'shown':>5s} "
          f" {'out-of-scope shown':>18s}")
    for model, result in results.items():
        for axis in ("all", "lang", "kind"):
            for group, s in sorted(result[axis].items()):
                if "top1" in s:
                    print(f"{model:24s} {axis + ':' + group:22s} {s['queries']:>4d}  {s['top1']:>5.3f} "
                          f"{s['top3']:>5.3f} {s['confident']:>5.3f} {s['shown']:>5.3f}")
                else:
                    print(f"{model:24s} {axis + ':' + group:22s} {s['queries']:>4d}  {'':28s} "
                          f"{s['shown_confidently']:>18.3f}")
        for name, figures in result.get("public_out_of_scope", {}).items():
            print(f"{model:24s} {'public:' + name:22s} {figures['queries']:>4d}  {'':28s} "
                  f"{figures['shown_confidently']:>18.3f}")
        print(f"{model:24s} build {result['build_seconds']} s ({result['embedded']} passages embedded), "
              f"{len(result['misses'])} rows not shown or out-of-scope shown (listed in the JSON)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["all-MiniLM-L6-v2", "multilingual-e5-small"])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--work", type=Path, help="keep the indexes here (reused by the next run)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "deflection.json")
    parser.add_argument("--public-oos", type=int, default=0, metavar="N",
                        help="also search N queries of each public data set, out of scope here")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="Folder of the public data sets.")
    args = parser.parse_args()
    rows = load_rows(args.queries)
    results = {}
    with tempfile.TemporaryDirectory(prefix="kb-bench-deflection-") as tmp:
        for model in args.models:
            results[model] = run(model, args.work or Path(tmp), rows, args.public_oos, args.data)
            print(f"{model}: {json.dumps(results[model]['all'])}", flush=True)
    print_table(results)
    write_report(args.out, results)


if __name__ == "__main__":
    main()
