"""The FAISS vector index over passage embeddings. FAISS is used only here."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.errors import IndexFormatError


def write_index(path: Path, embeddings: np.ndarray) -> str:
    """Write an exact inner-product index (cosine on normalised vectors); returns its type name."""
    import faiss

    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    index = faiss.IndexFlatIP(vectors.shape[1])
    if len(vectors):
        index.add(vectors)
    faiss.write_index(index, str(path))
    return "flat-ip"


class VectorIndex:
    """A loaded FAISS index; `search` returns (scores, row ids), -1 where fewer rows exist."""

    def __init__(self, path: Path, dimension: int) -> None:
        import faiss

        try:
            self._index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexFormatError(f"{path}: cannot read vector index ({str(exc).splitlines()[0]})") from None
        if self._index.d != dimension:
            raise IndexFormatError(f"{path}: vectors have {self._index.d} dimensions, manifest says {dimension}")
        faiss.omp_set_num_threads(1)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.zeros((1, 0), dtype=np.float32), np.zeros((1, 0), dtype=np.int64)
        return self._index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k)
