"""What the spelling dictionaries cost and change: load and lookup times, stage 1 and full search latency.

    .venv/bin/python bench/spelling.py [--model all-MiniLM-L6-v2] [--work DIR]

The sample help center is built with the real model; the development set (bench/data/dev_questions.jsonl) and the
multilingual queries (bench/data/multilingual.jsonl) are the queries. Reported: how long loading the four hunspell
dictionaries takes; one word's lookup (`is_word`) over every word of the queries; the search for dictionary
neighbours of a non-word; stage 1 alone (`prepare_query`), with the dictionaries and without them (the help
center's vocabulary alone), and a full hybrid search (query embedding included, nothing primed), p50/p95; and
which queries were fixed (searched otherwise) or only offered a fix, with the hybrid top-1 and recall@3 of the
development set. `--work DIR` keeps the built index there and reuses it. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.multilingual import built_service, load_rows  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.embedding.encoders import ENGLISH_MODEL  # noqa: E402
from kb.index.manifest import AUDIENCES  # noqa: E402
from search.dictionaries import Dictionaries  # noqa: E402
from search.prepare import prepare_query  # noqa: E402
from search.service import SearchService  # noqa: E402

DATA = ROOT / "bench" / "data"
OUT = ROOT / "bench" / "out" / "spelling.json"


def ms(samples: list[float]) -> dict:
    return {"p50": round(float(np.percentile(samples, 50)) * 1000, 3),
            "p95": round(float(np.percentile(samples, 95)) * 1000, 3),
            "max": round(max(samples) * 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=ENGLISH_MODEL)
    parser.add_argument("--work", type=Path, help="keep the built index in this folder and reuse it")
    args = parser.parse_args()
    rows = load_rows(DATA / "dev_questions.jsonl") + load_rows(DATA / "multilingual.jsonl")
    started = time.perf_counter()
    dictionaries = Dictionaries.load()
    report: dict = {"dictionaries_load_s": round(time.perf_counter() - started, 2),
                    "dictionaries_available": dictionaries.available}
    words = sorted({w for r in rows for w in re.findall(r"[^\W\d_]+", r["query"])})
    lookups, neighbours = [], []
    for word in words:
        start = time.perf_counter()
        valid = dictionaries.is_word(word)
        lookups.append(time.perf_counter() - start)
        if not valid and len(word) >= 4:
            start = time.perf_counter()
            dictionaries.neighbours(word)
            neighbours.append(time.perf_counter() - start)
    report.update(words=len(words), is_word=ms(lookups), non_words=len(neighbours), neighbours=ms(neighbours))

    with tempfile.TemporaryDirectory() as scratch:
        work = args.work or Path(scratch)
        index = work / args.model / "index"
        if (index / "manifest.json").is_file():
            service, build_s = SearchService.load(index, Settings(embedding_model=args.model)), 0.0
        else:
            service, _encoder, _report, build_s = built_service(args.model, ROOT / "articles", work)
        allowed = AUDIENCES["public"]
        vocabulary = service._words["public"]
        service.search("warm-up")  # loads the process's dictionaries, as a served portal's first search does
        stage1, vocabulary_only, searches, changed, top1, recall3, dev = [], [], [], [], 0, 0, 0
        without = Dictionaries({})
        for row in rows:
            knows = lambda w: service._keyword.knows(w, allowed)  # noqa: E731
            start = time.perf_counter()
            prepare_query(row["query"], knows, vocabulary, without)
            vocabulary_only.append(time.perf_counter() - start)
            start = time.perf_counter()
            prepared = prepare_query(row["query"], knows, vocabulary, dictionaries)
            stage1.append(time.perf_counter() - start)
            start = time.perf_counter()
            response = service.search(row["query"], k=10)
            searches.append(time.perf_counter() - start)
            if prepared.corrected or prepared.suggested:
                changed.append({"query": row["query"], "searched": prepared.corrected,
                                "did_you_mean": prepared.suggested, "lang": row["lang"]})
            if "kind" in row:  # the development set
                ids = [service.articles[h.id].group for h in response.hits]
                dev += 1
                top1 += bool(ids) and ids[0] in row["expected"]
                recall3 += any(i in row["expected"] for i in ids[:3])
        service.close()
    report.update(model=args.model, build_s=round(build_s, 1), queries=len(rows), stage1_ms=ms(stage1),
                  stage1_without_dictionaries_ms=ms(vocabulary_only),
                  search_ms=ms(searches), dev_top1=round(top1 / dev, 3), dev_recall3=round(recall3 / dev, 3),
                  fixed=sum(bool(c["searched"]) for c in changed),
                  suggested=sum(bool(c["did_you_mean"]) for c in changed), changes=changed)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "changes"}, ensure_ascii=False, indent=1))
    for change in changed:
        print(f"  {change['lang']}: {change['query']!r} -> searched {change['searched']!r}, "
              f"did you mean {change['did_you_mean']!r}")


if __name__ == "__main__":
    main()
