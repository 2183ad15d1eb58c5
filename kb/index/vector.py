"""The FAISS vector index over passage embeddings. FAISS is used only here.

Up to `exact_max` vectors the index is exact (flat inner product: cosine on normalised vectors). Above it, an
inverted file (IVF, k-means cells of about sqrt(n)·4 vectors' worth; a query scans the IVF_NPROBE nearest cells)
answers in a millisecond or two where a flat scan grows with the collection. bench/search.py measures its recall@10
against the exact scan (nprobe 64): 0.99 at 147k passages (0.6 ms) and 1.00 at 1.47M (2.5 ms), where an HNSW
graph (M 32, efSearch 1024) reached 0.95 and 0.68 on help-center text full of near-duplicate passages.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.errors import IndexFormatError

IVF_NPROBE = 64  # cells scanned per query
IVF_TRAIN_PER_CELL = 40  # k-means training points per cell (faiss asks for 39)


def ivf_cells(count: int) -> int:
    return max(16, int(4 * count ** 0.5))


def write_index(path: Path, embeddings: np.ndarray, exact_max: int = 50_000) -> str:
    """Write the index for `embeddings`; returns its type name ('flat-ip' or 'ivf-ip')."""
    import faiss

    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    dimension = vectors.shape[1]
    if len(vectors) <= exact_max:
        index, kind = faiss.IndexFlatIP(dimension), "flat-ip"
        if len(vectors):
            index.add(vectors)
    else:
        cells = ivf_cells(len(vectors))
        index, kind = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, cells,
                                         faiss.METRIC_INNER_PRODUCT), "ivf-ip"
        rng = np.random.default_rng(0)  # a fixed sample: the same vectors give the same index
        sample = rng.choice(len(vectors), min(len(vectors), cells * IVF_TRAIN_PER_CELL), replace=False)
        index.train(vectors[np.sort(sample)])
        index.add(vectors)
        index.nprobe = IVF_NPROBE
    # Written by Python rather than by FAISS's own file writer: a full disk is then an OSError naming the file
    # (ENOSPC), like every other index file's, not a RuntimeError from C++.
    with open(path, "wb") as handle:
        handle.write(faiss.serialize_index(index))  # (a uint8 array: written without a copy)
    return kind


class VectorIndex:
    """A loaded FAISS index; `search` returns (scores, row ids), -1 where fewer rows exist."""

    def __init__(self, path: Path, dimension: int, threads: int = 1) -> None:
        import faiss

        try:
            # Flat and IVF vectors are memory-mapped, not copied: their pages are the file's, in the page cache once
            # for every worker serving this build (a build is never changed in place; a replaced one stays mapped).
            self._index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
        except RuntimeError as exc:
            raise IndexFormatError(f"{path}: cannot read vector index ({str(exc).splitlines()[0]})") from None
        if self._index.d != dimension:
            raise IndexFormatError(f"{path}: vectors have {self._index.d} dimensions, manifest says {dimension}")
        if hasattr(self._index, "nprobe"):
            self._index.nprobe = IVF_NPROBE
        faiss.omp_set_num_threads(threads)

    @classmethod
    def of(cls, vectors: np.ndarray) -> "VectorIndex":
        """An exact index over `vectors` held in memory (for vectors that no index file holds)."""
        import faiss

        index = cls.__new__(cls)
        index._index = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            index._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return index

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.zeros((1, 0), dtype=np.float32), np.zeros((1, 0), dtype=np.int64)
        return self._index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k)


class PartitionedVectors:
    """Vector indexes over disjoint sets of passages (one per article audience), searched as one.

    `rows[name][i]` is the passage row (in the index's passage order) of vector i of partition `name`. A search
    asks only the partitions given; results are passage rows, best first, merged by score: over exact indexes,
    the same as one index holding those partitions' vectors.
    """

    def __init__(self, indexes: dict[str, VectorIndex], rows: dict[str, np.ndarray]) -> None:
        for name, index in indexes.items():
            if len(index) != len(rows[name]):
                raise IndexFormatError(f"{len(index)} vectors in the {name!r} vector index for {len(rows[name])} "
                                       f"passages of {name} articles; rebuild the index")
        self._indexes = indexes
        self._rows = rows

    def __len__(self) -> int:
        return sum(len(index) for index in self._indexes.values())

    def search(self, query: np.ndarray, k: int, partitions: tuple[str, ...] = ("public",)
               ) -> tuple[np.ndarray, np.ndarray]:
        """(scores, passage rows), each of shape (1, up to k)."""
        scores, rows = [], []
        for name in partitions:
            index = self._indexes.get(name)
            if index is None or len(index) == 0:
                continue
            found, positions = index.search(query, k)
            keep = positions[0] >= 0
            scores.append(found[0][keep])
            rows.append(self._rows[name][positions[0][keep]])
        if not scores:
            return np.zeros((1, 0), dtype=np.float32), np.zeros((1, 0), dtype=np.int64)
        merged_scores, merged_rows = np.concatenate(scores), np.concatenate(rows)
        order = np.lexsort((merged_rows, -merged_scores))[:k]
        return merged_scores[order].reshape(1, -1), merged_rows[order].astype(np.int64).reshape(1, -1)
