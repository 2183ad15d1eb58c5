"""How much of the exact nearest neighbours the quantized vector index finds, on real text embedded by a real model.

    .venv/bin/python bench/quantized_recall.py [--model all-MiniLM-L6-v2] [--queries 1000] [--k 10 50] [--work DIR]

Above `exact_search_max` passages a build writes an inverted file of quantized vectors (kb/index/vector.py), and a
search re-scores what it finds from the float vectors (PartitionedVectors over ExactRows). Here the customer
questions of Banking77 and Bitext (../shared/data) are embedded by `--model` (as queries; cached in --work), a
random `--queries` of them are the queries and the rest the passages. Each is searched exactly (numpy), and through
an 8-bit and a 4-bit inverted file written by `write_index` with the exact limit below the count: asked for k alone
(the raw quantized order) and as a search asks (RESCORE_FACTOR × k, re-scored). Reported per k: the share of the
exact top k found. Written to bench/out/quantized_recall.json. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.datasets import DATASETS, load_queries  # noqa: E402
from kb.index.vector import PartitionedVectors, VectorIndex, write_index  # noqa: E402


def embedded(model: str, work: Path) -> np.ndarray:
    """Every distinct question of the data sets, embedded by `model` (cached in `work`)."""
    from kb.embedding.encoders import load_encoder

    cache = work / f"questions-{model}.npy"
    if cache.is_file():
        return np.load(cache)
    texts = list(dict.fromkeys(q.text for name in DATASETS for q in load_queries(name)))
    started = time.perf_counter()
    vectors = load_encoder(model, 0, 64, "fp32", "onnx", work / "models").encode_queries(texts).astype(np.float32)
    print(f"embedded {len(texts)} questions with {model} in {time.perf_counter() - started:.0f} s", flush=True)
    np.save(cache, vectors)
    return vectors


def found_share(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f.tolist()) & set(t.tolist())) / len(t) for f, t in zip(found, truth)]))


def measure(vectors: np.ndarray, queries: int, ks: list[int], work: Path, seed: int = 1) -> dict:
    order = np.random.default_rng(seed).permutation(len(vectors))
    asked, passages = vectors[order[:queries]], vectors[order[queries:]]
    exact = work / "embeddings.npy"
    np.save(exact, passages)
    rows = {"public": np.arange(len(passages))}
    ranked = np.argsort(-(asked @ passages.T), axis=1)
    truths = {k: ranked[:, :k] for k in ks}  # each query's exact top k
    result: dict = {"passages": len(passages), "queries": queries}
    for bits in (8, 4):
        path = work / f"sq{bits}.faiss"
        kind = write_index(path, passages, exact_max=len(passages) - 1, bits=bits)
        index = VectorIndex(path, passages.shape[1])
        rescored = PartitionedVectors({"public": index}, rows, exact)
        for k, truth in truths.items():
            raw = np.stack([index.search(q, k)[1][0] for q in asked])
            searched = np.stack([rescored.search(q, k)[1][0] for q in asked])
            result[f"{kind} k={k}"] = {"raw": round(found_share(raw, truth), 4),
                                       "re_scored": round(found_share(searched, truth), 4)}
            print(f"{kind:8s} k={k:3d}: raw {result[f'{kind} k={k}']['raw']:.4f}, as searched (re-scored) "
                  f"{result[f'{kind} k={k}']['re_scored']:.4f}", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--k", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--work", type=Path, help="Folder for the cached embeddings (kept).")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="kb-quantized-"))
    work.mkdir(parents=True, exist_ok=True)
    result = {"model": args.model, **measure(embedded(args.model, work), args.queries, args.k, work)}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "quantized_recall.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
