"""CPU time of one search of a text asked for the first time, and how often the English second opinion is asked.

    .venv/bin/python bench/search_cpu.py --index DIR [--per-set 150]

DIR is a built index (a multilingual one, with the English second opinion, is the interesting case: the sample
built by `bench/deflection.py --work W` is W/multilingual-e5-small/index). The service is loaded as a serving
process loads it (query runtime from the settings, one compute thread), once with `english_second_opinion` on and
once off, and searches the same texts with each, every text new to the service (nothing cached: each is asked
once; a first pass over the same texts with a word appended warms the process without caching them). The texts, in
two groups:
- in scope: the development set's English answerable phrasings (bench/data/dev_questions.jsonl);
- out of scope: `--per-set` questions each of Banking77 and Bitext (`--data`, ../shared/data), without the intents
  the sample answers (bench/deflection.py public_sample).
Reported per group and setting: the calling thread's CPU milliseconds per search (mean and p50; the query models
run in it with one compute thread), the share confident, and how many searches asked the second opinion. Written
to bench/out/search_cpu.json. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from bench.datasets import DEFAULT_DATA_DIR  # noqa: E402
from bench.deflection import QUERIES, public_sample  # noqa: E402
from bench.multilingual import load_rows  # noqa: E402
from bench.report import write_report  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.index.manifest import read_manifest  # noqa: E402
from search.second_opinion import SecondOpinion  # noqa: E402
from search.service import SearchService  # noqa: E402


WARM_UP = "please"  # appended to each text for the warm-up pass: other texts, so the measured ones are asked once


def groups(per_set: int, data: Path) -> dict[str, list[str]]:
    rows = load_rows(QUERIES)
    return {"in scope (development set, English)": [r["query"] for r in rows if r["lang"] == "en" and r["expected"]],
            "out of scope (Banking77, Bitext)": [q.text for name in ("banking77", "bitext")
                                                 for q in public_sample(name, per_set, data)]}


def measure(service: SearchService, texts: list[str]) -> dict:
    asked = 0
    real = SecondOpinion.confidence

    def counted(self, *args, **kwargs):
        nonlocal asked
        asked += 1
        return real(self, *args, **kwargs)

    SecondOpinion.confidence = counted
    cpu, confident = [], 0
    try:
        for text in texts:
            started = time.thread_time()
            response = service.search(text, k=3, lang="en")
            cpu.append((time.thread_time() - started) * 1000)
            confident += response.confident
    finally:
        SecondOpinion.confidence = real
    return {"searches": len(texts), "cpu_ms_mean": round(statistics.fmean(cpu), 2),
            "cpu_ms_p50": round(statistics.median(cpu), 2), "confident": round(confident / len(texts), 3),
            "second_opinion_asked": asked}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--per-set", type=int, default=150)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    args = parser.parse_args()
    model = read_manifest(args.index).model_name
    base = Settings(index_dir=args.index, embedding_model=model, embedding_threads=1)
    texts = groups(args.per_set, args.data)
    results: dict = {"model": model}
    for second in (True, False):
        service = SearchService.load(args.index, replace(base, english_second_opinion=second))
        for group_texts in texts.values():  # warm (pages of the index and models read once), caches still cold
            for text in group_texts:
                service.search(f"{text} {WARM_UP}", k=3, lang="en")
        setting = "second opinion on" if second else "second opinion off"
        for group, group_texts in texts.items():
            figures = measure(service, group_texts)
            results.setdefault(group, {})[setting] = figures
            print(f"{model} | {group} | {setting}: {json.dumps(figures)}", flush=True)
    write_report(ROOT / "bench" / "out" / "search_cpu.json", results)


if __name__ == "__main__":
    main()
