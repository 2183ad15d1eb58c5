"""Resident memory of one serving process at a given help-center size, beside the sample help center's.

    .venv/bin/python bench/memory.py [--size 10000] [--searches 200] [--work DIR] [--workers 2]

A synthetic help center of `--size` articles is generated from the sample articles (bench/synth.py) and built the
way a multilingual index is: its own vectors and the English second opinion's (indexer/second_opinion.py), a
vector index and a classifier per audience. Embedding 10,000 articles with the real models would take hours, so
passages are embedded by bench/search.py's stand-in (hashed words, 384-d) for both; the query side is real: every
query runs through multilingual-e5-small and all-MiniLM-L6-v2 (ONNX, one thread), whose sessions and weights are
part of what is measured. The sample articles are built the same way as the baseline of the same run.

Each index is then served in a fresh process as a worker serves it (web.create_app over the loaded service, a
fresh SQLite database, the spelling dictionaries loaded): `--searches` customer questions go through /api/suggest
and the search page, and the process's memory is read from /proc (RSS; PSS, shared pages split between the
processes that map them; and the parts: anonymous memory, file-backed pages). Reported: per size, the memory after
loading and after the searches, the second opinion's time per question in Latin letters (its vector search and
curve, the query vector known), and the large size's figures as a ratio of the sample's. With `--workers N`, the
large index is also served by N such processes at once, as N workers serve one build: each reads its memory while
all are alive, so its PSS counts its share of the pages they map together (vectors, keyword scores, centroids, the
models' files). Written to bench/out/memory.json. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # as a worker (web/wsgi.py)
    os.environ.setdefault(_name, "1")

from bench.portal import smaps_mib  # noqa: E402

PRIMARY, SECOND = "multilingual-e5-small", "all-MiniLM-L6-v2"


def stand_ins(settings):
    """The two stand-in encoders, each paying for its real model on every query."""
    from bench.search import StandIn
    from kb.embedding.encoders import load_encoder

    def real(name):
        return load_encoder(name, 1, 32, settings.embedding_precision, settings.query_runtime,
                            settings.model_cache_dir)

    primary, second = StandIn(real(PRIMARY)), StandIn(real(SECOND))
    second.name = "bench-stand-in-second"
    return primary, second


def build(articles: Path, index_dir: Path) -> dict:
    from indexer.build import build_index
    from kb.config import Settings

    settings = Settings(articles_dir=articles, index_dir=index_dir, embedding_model="bench-stand-in")
    primary, second = stand_ins(settings)
    report = build_index(settings, primary, progress=False, second_encoder=second)
    return {"articles": report.articles, "passages": report.passages, "build_seconds": round(report.seconds, 1)}


def serve(articles: Path, index_dir: Path, searches: int, together: tuple[Path, int] | None = None) -> dict:
    """In this (fresh) process: load the index and the portal as a worker does, search, read the memory."""
    from bench.search import sample_queries
    from kb.config import Settings
    from search.service import SearchService
    from web import create_app

    folder = Path(tempfile.mkdtemp(prefix="kb-memory-"))
    settings = Settings(articles_dir=articles, index_dir=index_dir, embedding_model="auto",
                        database_url=f"sqlite:///{folder / 'kb.sqlite3'}", secret_key="m" * 32,
                        attachments_dir=folder / "attachments", analytics="off",
                        rate_limit_suggest="100000/minute", rate_limit_search="100000/minute")
    before = smaps_mib()
    primary, second = stand_ins(settings)
    service = SearchService.load(index_dir, settings, primary, second_encoder=second)
    app = create_app(settings, service)
    client = app.test_client()
    loaded = smaps_mib()
    errors = 0
    for query in sample_queries(searches):
        for url in ("/api/suggest", "/search"):
            errors += client.get(url, query_string={"q": query}).status_code != 200
    after = smaps_mib()
    # The second opinion's share of a search in Latin letters: its nearest passages and curve (each query's vector
    # is computed by a first call, so the second times the vector search and the features alone).
    took = []
    for query in sample_queries(searches):
        service._second.confidence(query, "public", "en", False)
        started = time.perf_counter()
        service._second.confidence(query, "public", "en", False)
        took.append(time.perf_counter() - started)
    if together:  # read the memory again once every worker has searched, and stay until every one has read it
        _meet(together, "searched")
        after = smaps_mib()
        _meet(together, "measured")
    return {"interpreter": before, "loaded": loaded, "after_searches": after, "errors": errors,
            "searches": searches, "second_opinion_ms": {"p50": round(float(np.percentile(took, 50)) * 1000, 2),
                                                        "p95": round(float(np.percentile(took, 95)) * 1000, 2)}}


def _meet(together: tuple[Path, int], stage: str) -> None:
    """Wait (up to 10 minutes) until all of `together`'s processes have reached `stage`."""
    folder, count = together
    (folder / f"{stage}-{os.getpid()}").touch()
    deadline = time.monotonic() + 600
    while len(list(folder.glob(f"{stage}-*"))) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def side_by_side(articles: Path, index_dir: Path, searches: int, workers: int) -> list[dict]:
    """`workers` fresh processes serving one index at once; each one's figures."""
    folder = Path(tempfile.mkdtemp(prefix="kb-memory-workers-"))
    command = [sys.executable, __file__, "--searches", str(searches), "--together", str(folder), str(workers),
               "--step", "serve", str(articles), str(index_dir)]
    running = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(workers)]
    results = []
    for process in running:
        out, err = process.communicate()
        if process.returncode:
            raise SystemExit(f"a worker failed:\n{err[-3000:]}")
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def in_fresh_process(*args: str) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000, help="Articles of the synthetic help center.")
    parser.add_argument("--searches", type=int, default=200, help="Questions searched before memory is read.")
    parser.add_argument("--work", type=Path, help="Folder to keep the builds in (reused when present).")
    parser.add_argument("--workers", type=int, default=1, help="Also serve the large index from this many "
                        "processes at once and report each one's memory.")
    parser.add_argument("--step", nargs=3, help=argparse.SUPPRESS)  # internal: build|serve ARTICLES INDEX
    parser.add_argument("--together", nargs=2, help=argparse.SUPPRESS)  # internal: FOLDER COUNT
    args = parser.parse_args()
    if args.step:
        step, articles, index_dir = args.step
        result = (build(Path(articles), Path(index_dir)) if step == "build"
                  else serve(Path(articles), Path(index_dir), args.searches,
                           (Path(args.together[0]), int(args.together[1])) if args.together else None))
        print(json.dumps(result))
        return
    from bench.synth import generate

    work = args.work or Path(tempfile.mkdtemp(prefix="kb-memory-"))
    results = {}
    for name, size in (("sample", None), (f"{args.size}", args.size)):
        articles = ROOT / "articles" if size is None else work / f"articles-{size}"
        index_dir = work / f"index-{name}" / "index"
        if not (index_dir / "manifest.json").is_file():
            if size is not None:
                generate(ROOT / "articles", articles, size)
            results.setdefault(name, {})["build"] = in_fresh_process("--step", "build", str(articles), str(index_dir))
        served = in_fresh_process("--searches", str(args.searches), "--step", "serve", str(articles), str(index_dir))
        results.setdefault(name, {}).update(served)
        print(f"{name:>8s}: loaded RSS {served['loaded']['rss_mib']} MiB, after {args.searches} searches RSS "
              f"{served['after_searches']['rss_mib']} MiB, PSS {served['after_searches']['pss_mib']} MiB "
              f"(anonymous {served['after_searches']['anonymous_mib']} MiB), errors {served['errors']}; second "
              f"opinion p50 {served['second_opinion_ms']['p50']} ms, p95 {served['second_opinion_ms']['p95']} ms",
              flush=True)
    big, small = results[f"{args.size}"]["after_searches"], results["sample"]["after_searches"]
    results["ratio_rss"] = round(big["rss_mib"] / small["rss_mib"], 2)
    print(f"{args.size} articles / sample: RSS x{results['ratio_rss']}")
    if args.workers > 1:
        workers = side_by_side(work / f"articles-{args.size}", work / f"index-{args.size}" / "index", args.searches,
                               args.workers)
        results["side_by_side"] = [w["after_searches"] for w in workers]
        for n, w in enumerate(results["side_by_side"], start=1):
            print(f"  worker {n} of {args.workers}: RSS {w['rss_mib']} MiB, PSS {w['pss_mib']} MiB (anonymous "
                  f"{w['anonymous_mib']} MiB, its share of mapped files {w['pss_file_mib']} MiB)")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "memory.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
