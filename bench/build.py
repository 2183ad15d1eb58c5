"""Build throughput: articles/s of `kb build` beside the raw encoder throughput measured in the same run,
and the time of an unchanged and of a one-article incremental rebuild.

    .venv/bin/python bench/build.py --sizes 1000 10000

Prints a table and writes bench/out/build.json. It asserts nothing: it measures.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.synth import generate  # noqa: E402
from indexer.build import build_index, indexed  # noqa: E402
from kb.check import load_help_center  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.embedding.encoders import ENGLISH_MODEL, load_encoder  # noqa: E402


def raw_throughput(encoder, texts: list[str], batch_size: int) -> float:
    """Passages/s of the bare encoder on `texts`, batched by length as the build does."""
    texts = sorted(texts, key=len)
    start = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        encoder.encode_passages(texts[i:i + batch_size])
    return len(texts) / (time.perf_counter() - start)


def run(size: int, work: Path, encoder, settings: Settings, sample: int) -> dict:
    articles = generate(ROOT / "articles", work / f"articles-{size}", size)
    settings = settings.replace(articles_dir=articles, index_dir=work / f"index-{size}" / "index")
    center = load_help_center(articles, settings)
    _, _, passages = indexed(center, settings)
    distinct = list({p.hash: p.text for p in passages}.values())
    rng = random.Random(1)
    raw = raw_throughput(encoder, rng.sample(distinct, min(sample, len(distinct))), settings.embedding_batch_size)

    cold = build_index(settings, encoder, progress=False)
    unchanged = build_index(settings, encoder, progress=False)
    one = sorted(articles.rglob("*.md"))[size // 2]
    one.write_text(one.read_text(encoding="utf-8") + "\n## Update\nThe fix also applies after the autumn rollout.\n",
                   encoding="utf-8")
    incremental = build_index(settings, encoder, progress=False)
    build_pps = cold.passages / cold.seconds
    return {
        "articles": cold.articles, "passages": cold.passages, "distinct_passages": len(distinct),
        "raw_encoder_passages_per_s": round(raw, 1),
        "build_seconds": round(cold.seconds, 1), "build_articles_per_s": round(cold.articles / cold.seconds, 2),
        "build_passages_per_s": round(build_pps, 1),
        "ratio_build_to_raw_encoder": round(build_pps / raw, 3),
        "raw_encoder_only_seconds": round(len(distinct) / raw, 1),
        "unchanged_rebuild_seconds": round(unchanged.seconds, 2), "unchanged_rebuild_embedded": unchanged.embedded,
        "incremental_seconds": round(incremental.seconds, 2), "incremental_embedded": incremental.embedded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--sample", type=int, default=1000, help="passages timed for the raw encoder baseline")
    parser.add_argument("--threads", type=int, default=0, help="embedding threads (0: all cores, as kb build)")
    parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "build.json")
    args = parser.parse_args()
    settings = Settings(build_threads=args.threads, embedding_precision=args.precision)
    started = time.perf_counter()
    encoder = load_encoder(ENGLISH_MODEL, args.threads, settings.embedding_batch_size, args.precision)
    load_seconds = time.perf_counter() - started
    results = {"model": encoder.name, "threads": args.threads or os.cpu_count(), "precision": args.precision,
               "model_load_seconds": round(load_seconds, 1),
               "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="kb-bench-") as tmp:
        for size in args.sizes:
            results["sizes"][str(size)] = row = run(size, Path(tmp), encoder, settings, args.sample)
            print(f"{size:>6} articles: " + ", ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
