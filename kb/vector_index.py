"""The FAISS vector index over passage embeddings. FAISS is used only here.

Up to `exact_max` vectors the index is exact (flat inner product: cosine on normalised vectors). Above it, an
HNSW graph answers in about a millisecond where a flat scan grows with the collection; bench/search.py measures
its recall against the exact index (≥ 0.95 at the settings below).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.errors import IndexFormatError

HNSW_M = 32  # graph degree: higher = better recall, more memory and build time
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 1024  # candidates explored per query: recall@10 0.965 at 147k passages, 1.7 ms (bench/search.py)


def write_index(path: Path, embeddings: np.ndarray, exact_max: int = 50_000) -> str:
    """Write the index for `embeddings`; returns its type name ('flat-ip' or 'hnsw-ip')."""
    import faiss

    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    dimension = vectors.shape[1]
    if len(vectors) <= exact_max:
        index, kind = faiss.IndexFlatIP(dimension), "flat-ip"
    else:
        index, kind = faiss.IndexHNSWFlat(dimension, HNSW_M, faiss.METRIC_INNER_PRODUCT), "hnsw-ip"
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    if len(vectors):
        index.add(vectors)
    faiss.write_index(index, str(path))
    return kind


class VectorIndex:
    """A loaded FAISS index; `search` returns (scores, row ids), -1 where fewer rows exist."""

    def __init__(self, path: Path, dimension: int, threads: int = 1) -> None:
        import faiss

        try:
            self._index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexFormatError(f"{path}: cannot read vector index ({str(exc).splitlines()[0]})") from None
        if self._index.d != dimension:
            raise IndexFormatError(f"{path}: vectors have {self._index.d} dimensions, manifest says {dimension}")
        if hasattr(self._index, "hnsw"):
            self._index.hnsw.efSearch = HNSW_EF_SEARCH
        faiss.omp_set_num_threads(threads)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.zeros((1, 0), dtype=np.float32), np.zeros((1, 0), dtype=np.int64)
        return self._index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k)
