"""The FAISS vector index over passage embeddings. FAISS is used only here.

Up to `exact_max` vectors the index is exact (flat inner product: cosine on normalised vectors). Above it, an
inverted file (IVF, k-means cells of about sqrt(n)·4 vectors' worth; a query scans the IVF_NPROBE nearest cells)
answers in a few milliseconds where a flat scan grows with the collection. Unquantized, its recall@10 against the
exact scan (nprobe 64, bench/search.py) was 0.99 at 147k passages and 1.00 at 1.47M, where an HNSW graph (M 32,
efSearch 1024) reached 0.95 and 0.68 on help-center text full of near-duplicate passages.

The inverted file stores each vector in 4 bits a dimension (FAISS's scalar quantizer: an eighth of the memory every
worker maps; builds of kb before it wrote 8 bits, 'ivf-sq8', which load the same way). Its scores are then rough, so
it is asked for twice the passages wanted, and those are re-scored exactly from the float vectors the index folder
keeps in passage order (ExactRows: read from the file per search, never held in memory): what a search returns
scores the same as the flat index's. bench/quantized_recall.py measures it on the 18,172 customer questions of
Banking77 and Bitext, 1,000 of them as queries: as searched, the 4-bit index finds 0.9995 of the exact top 50 with
all-MiniLM-L6-v2's vectors and 0.9971 with multilingual-e5-small's, where the 8-bit one finds 0.9995 and 0.9974
(the cells not scanned hold the rest); without re-scoring the 4-bit order alone would find 0.960 and 0.928.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from kb.errors import IndexFormatError
from kb.index.npy import read_npy_header

IVF_NPROBE = 64  # cells scanned per query
IVF_TRAIN_PER_CELL = 40  # k-means training points per cell (faiss asks for 39)
RESCORE_FACTOR, RESCORE_MIN = 2, 32  # a quantized index is asked for this many times k (at least this many)


def ivf_cells(count: int) -> int:
    return max(16, int(4 * count ** 0.5))


QUANTIZERS = {4: "QT_4bit", 8: "QT_8bit"}  # bits a dimension: FAISS's scalar quantizer type


def write_index(path: Path, embeddings: np.ndarray, exact_max: int = 50_000, bits: int = 4) -> str:
    """Write the index for `embeddings`; returns its type name ('flat-ip', or 'ivf-sq4' with `bits` 4)."""
    import faiss

    vectors = np.ascontiguousarray(embeddings, dtype=np.float32)
    dimension = vectors.shape[1]
    if len(vectors) <= exact_max:
        index, kind = faiss.IndexFlatIP(dimension), "flat-ip"
        if len(vectors):
            index.add(vectors)
    else:
        cells = ivf_cells(len(vectors))
        quantizer = getattr(faiss.ScalarQuantizer, QUANTIZERS[bits])
        index, kind = faiss.IndexIVFScalarQuantizer(faiss.IndexFlatIP(dimension), dimension, cells, quantizer,
                                                    faiss.METRIC_INNER_PRODUCT), f"ivf-sq{bits}"
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
        # whether its scores are those of quantized vectors (to be re-scored exactly): asked by every search
        self.approximate = isinstance(self._index, (faiss.IndexIVFScalarQuantizer, faiss.IndexScalarQuantizer))
        faiss.omp_set_num_threads(threads)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = max(1, min(k, len(self)))
        if len(self) == 0:
            return np.zeros((1, 0), dtype=np.float32), np.zeros((1, 0), dtype=np.int64)
        return self._index.search(np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1), k)


class ExactRows:
    """Rows of a float32 matrix saved by numpy (.npy), read from the file as a search asks for them (os.pread): the
    page cache holds what is read once for every process, and no process holds the matrix. The file stays readable
    while open, when a newer build replaces it."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = open(path, "rb")
            shape, fortran, dtype, self._offset = read_npy_header(self._file)
            size = os.fstat(self._file.fileno()).st_size
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"{path}: cannot read vectors ({exc})") from None
        if len(shape) != 2 or fortran or dtype != np.dtype("<f4"):
            raise IndexFormatError(f"{path}: not a matrix of float32 rows ({dtype}, shape {shape}); rebuild the index")
        self.path, self.shape = path, shape
        self._row_bytes = shape[1] * 4
        if size < self._offset + shape[0] * self._row_bytes:
            raise IndexFormatError(f"{path}: truncated ({size} bytes for {shape[0]} rows); rebuild the index")

    def take(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of `rows` (passage rows), in that order: one read per run of consecutive rows (an
        article's passages are neighbours, and so are often the rows a search finds)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, self.shape[1]), dtype=np.float32)
        distinct, position = np.unique(rows, return_inverse=True)
        starts = np.flatnonzero(np.diff(distinct, prepend=-2) != 1)
        lengths = np.diff(starts, append=len(distinct))
        descriptor, size, offset = self._file.fileno(), self._row_bytes, self._offset
        data = b"".join(os.pread(descriptor, size * length, offset + row * size)
                        for row, length in zip(distinct[starts].tolist(), lengths.tolist()))
        if len(data) != len(distinct) * size:
            raise IndexFormatError(f"{self.path}: truncated; rebuild the index")
        return np.frombuffer(data, dtype="<f4").reshape(len(distinct), self.shape[1])[position]


class PartitionedVectors:
    """Vector indexes over disjoint sets of passages (one per article audience), searched as one.

    `rows[name][i]` is the passage row (in the index's passage order) of vector i of partition `name`. A search
    asks only the partitions given; results are passage rows, best first, merged by score: over exact indexes,
    the same as one index holding those partitions' vectors. A quantized index's finds are re-scored from the file
    `exact` (every passage's float vector, in passage order, as numpy saves it), when given.
    """

    def __init__(self, indexes: dict[str, VectorIndex], rows: dict[str, np.ndarray],
                 exact: Path | None = None) -> None:
        for name, index in indexes.items():
            if len(index) != len(rows[name]):
                raise IndexFormatError(f"{len(index)} vectors in the {name!r} vector index for {len(rows[name])} "
                                       f"passages of {name} articles; rebuild the index")
        self._indexes = indexes
        self._rows = rows
        self._exact = None
        if exact is not None and any(index.approximate for index in indexes.values()):
            self._exact = ExactRows(exact)
            passages = sum(len(r) for r in rows.values())
            dimension = next(iter(indexes.values())).dimension
            if tuple(self._exact.shape) != (passages, dimension):
                raise IndexFormatError(f"{exact}: {self._exact.shape[0]} vectors of {self._exact.shape[1]} "
                                       f"dimensions for {passages} passages of {dimension}; rebuild the index")

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
            rescored = self._exact is not None and index.approximate
            found, positions = index.search(query, max(k * RESCORE_FACTOR, RESCORE_MIN) if rescored else k)
            keep = positions[0] >= 0
            found_rows = self._rows[name][positions[0][keep]]
            scores.append(self._exact.take(found_rows) @ np.asarray(query, dtype=np.float32).reshape(-1)
                          if rescored else found[0][keep])
            rows.append(found_rows)
        if not scores:
            return np.zeros((1, 0), dtype=np.float32), np.zeros((1, 0), dtype=np.int64)
        merged_scores, merged_rows = np.concatenate(scores), np.concatenate(rows)
        order = np.lexsort((merged_rows, -merged_scores))[:k]
        return merged_scores[order].reshape(1, -1), merged_rows[order].astype(np.int64).reshape(1, -1)
