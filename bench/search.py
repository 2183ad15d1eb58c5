"""Warm search latency at several help-center sizes, beside Whoosh-only keyword search in the same run.

    .venv/bin/python bench/search.py --sizes 1000 10000 100000 --queries 300

For each size a synthetic help center is generated from the sample articles (bench/synth.py) and built. Embedding
100k articles with the real model would take hours, so passages are embedded by a stand-in (hashed words and
trigrams, 384-d, tests/fakes.py); each query still runs through the real model, whose time is part of every
measured search, while the vector that is searched is the stand-in's, in the index's space. Reported per size:
p50/p95 of a full hybrid search; of the keyword side alone as Whoosh's own searcher runs it ("whoosh_only": an OR
query over the same fields and terms) and as the service runs it (sums of stored BM25F scores, the same numbers);
of the query embedding alone and of the vector index alone; the vector index type and its recall@10 against an
exact numpy search. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.synth import generate  # noqa: E402
from indexer.build import build_index  # noqa: E402
from kb.check import load_help_center  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.embedding.encoders import ENGLISH_MODEL, load_encoder  # noqa: E402
from kb.index.layout import IndexFiles  # noqa: E402
from search.service import SearchService  # noqa: E402
from tests.fakes import HashingEncoder  # noqa: E402


class StandIn:
    """Hashed-feature vectors for the index; every query also pays for the real model."""

    name = "bench-stand-in"
    dimension = 384

    def __init__(self, real) -> None:
        self.real = real
        self.hashing = HashingEncoder(dimension=self.dimension)

    def encode_queries(self, texts):
        self.real.encode_queries(texts)
        return self.hashing.encode_queries(texts)

    def encode_passages(self, texts):
        return self.hashing.encode_queries(texts)


def percentiles(samples: list[float]) -> dict:
    ms = np.array(samples) * 1000
    return {"p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2)}


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        start = time.perf_counter()
        fn(item)
        out.append(time.perf_counter() - start)
    return out


def sample_queries(count: int, seed: int = 5) -> list[str]:
    """Customer phrasings from the sample articles, some with a typo, as a portal would receive them."""
    center = load_help_center(ROOT / "articles", Settings())
    questions = [q for a in center.published() for q in a.questions]
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        q = rng.choice(questions)
        if rng.random() < 0.2 and len(q) > 6:  # drop one letter
            i = rng.randrange(1, len(q) - 1)
            q = q[:i] + q[i + 1:]
        out.append(q)
    return out


def run(size: int, work: Path, real, queries: list[str], reuse: bool = False) -> dict:
    settings = Settings(articles_dir=work / f"articles-{size}", index_dir=work / f"index-{size}" / "index",
                        embedding_model=StandIn.name)
    encoder = StandIn(real)
    files = IndexFiles(settings.index_dir)
    if reuse and files.manifest.is_file():
        build_seconds = None  # measured by the run that built it
        manifest = json.loads(files.manifest.read_text(encoding="utf-8"))
        report = argparse.Namespace(articles=manifest["counts"]["articles"], passages=manifest["counts"]["passages"])
    else:
        generate(ROOT / "articles", settings.articles_dir, size)
        started = time.perf_counter()
        report = build_index(settings, encoder, progress=False)
        build_seconds = time.perf_counter() - started
    service = SearchService.load(settings.index_dir, settings, encoder)
    for q in queries[:20]:  # warm caches
        service.search(q)
    full = timed(lambda q: service.search(q), queries)
    whoosh = timed(lambda q: service._keyword.whoosh_search(q, settings.candidates), queries)
    stored = timed(lambda q: service._keyword.search(q, settings.candidates), queries)
    model = timed(lambda q: real.encode_queries([q]), queries)
    vectors = [encoder.hashing.encode_queries([q])[0] for q in queries]
    vector_search = timed(lambda v: service._vectors.search(v, settings.candidates * 4), vectors)
    # Recall of the vector index against an exact search over the same vectors.
    matrix = np.load(files.embeddings, mmap_mode="r")
    found, probes = 0, queries[:100]
    for q in probes:
        vector = encoder.hashing.encode_queries([q])[0]
        scores, _ = service._vectors.search(vector, 10)
        tenth = np.sort(matrix @ vector)[-10]
        found += int((scores[0] >= tenth - 1e-5).sum())  # by score: identical passages tie
    result = {
        "articles": report.articles, "passages": report.passages, "build_seconds": build_seconds and round(build_seconds, 1),
        "vector_index": service.manifest.vector_index, "vector_recall_at_10": round(found / (10 * len(probes)), 4),
        "hybrid": percentiles(full), "whoosh_only": percentiles(whoosh), "keyword_stored_scores": percentiles(stored),
        "query_embedding": percentiles(model), "vector_search": percentiles(vector_search),
    }
    result["hybrid_to_whoosh_p50"] = round(result["hybrid"]["p50_ms"] / result["whoosh_only"]["p50_ms"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "search.json")
    parser.add_argument("--work", type=Path, help="keep the generated help centers and indexes here")
    parser.add_argument("--reuse", action="store_true", help="with --work: measure the indexes already built there")
    args = parser.parse_args()
    settings = Settings()
    real = load_encoder(ENGLISH_MODEL, settings.embedding_threads, 32, settings.embedding_precision,
                        settings.query_runtime, settings.model_cache_dir)
    queries = sample_queries(args.queries)
    results = {"model": real.name, "threads": settings.embedding_threads, "query_runtime": settings.query_runtime,
               "queries": len(queries), "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="kb-bench-search-") as tmp:
        work = args.work or Path(tmp)
        for size in args.sizes:
            results["sizes"][str(size)] = row = run(size, work, real, queries, args.reuse)
            print(f"{size:>7} articles: {json.dumps(row)}", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
