"""A keyword view's stored scores (kb/index/keyword.py: `impacts.npz`, one row per (field, term), one column per
document) read and summed with numpy alone. The file is a CSR matrix as `scipy.sparse.save_npz` writes it (the
build writes it with SciPy); a search only adds up a few of its rows, which needs no SciPy, whose import was a
tenth or more of a short-lived search process's time (`kb gaps`, bench/gaps.py).

`column_sums` gives exactly the numbers SciPy's `matrix[rows].sum(axis=0)` gives (tests/test_indexes.py checks):
SciPy adds a column's entries one by one, in the order of `rows`, in the matrix's own precision, and so does
numpy's unbuffered `np.add.at` over the same entries in the same order.

The build stores the arrays uncompressed, so a loaded matrix maps them from the file (`_mapped`) rather than
copying them: every worker serving a build shares their pages, as it shares the vectors'.
"""
from __future__ import annotations

import struct
import zipfile
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.index.npy import read_npy_header


class Impacts:
    """A CSR matrix: `data`, `indices` (each entry's column) and `indptr` (where each row's entries start)."""

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, shape: tuple[int, int]) -> None:
        if len(indptr) != shape[0] + 1 or len(data) != len(indices) or (len(indptr) and indptr[-1] != len(data)):
            raise ValueError(f"not a CSR matrix of shape {shape}")
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape

    @classmethod
    def load(cls, path: Path) -> "Impacts":
        """Read a matrix `scipy.sparse.save_npz` wrote in CSR format; ValueError (or OSError) when it cannot."""
        try:
            return cls._load(path)
        except (zipfile.BadZipFile, KeyError, EOFError) as exc:
            raise ValueError(f"{path.name}: damaged ({exc})") from None

    @classmethod
    def _load(cls, path: Path) -> "Impacts":
        with np.load(path, allow_pickle=False) as stored:
            missing = {"format", "shape", "data", "indices", "indptr"} - set(stored.files)
            if missing:
                raise ValueError(f"{path.name} lacks {', '.join(sorted(missing))}")
            kind = stored["format"].item()
            if (kind.decode("ascii") if isinstance(kind, bytes) else str(kind)) != "csr":
                raise ValueError(f"{path.name} holds a {kind!r} matrix, not CSR")
            shape = tuple(int(n) for n in stored["shape"])
            if len(shape) != 2:
                raise ValueError(f"{path.name} holds a matrix of shape {shape}")
            arrays = [_mapped(path, stored.zip.getinfo(f"{name}.npy")) for name in ("data", "indices", "indptr")]
            return cls(*[stored[name] if array is None else array
                         for name, array in zip(("data", "indices", "indptr"), arrays)], (shape[0], shape[1]))

    def column_sums(self, rows: Sequence[int]) -> np.ndarray:
        """Each column's sum over `rows` (in that order; a row given twice counts twice), in the matrix's precision
        (float32 for float32 scores, as SciPy sums them)."""
        sums = np.zeros(self.shape[1], dtype=self.data.dtype if self.data.dtype.kind == "f" else np.int64)
        if len(rows):
            rows = np.asarray(rows, dtype=np.int64)
            starts, ends = self.indptr[rows].astype(np.int64), self.indptr[rows + 1].astype(np.int64)
            lengths = ends - starts
            # positions of the rows' entries, row after row: starts[i] .. ends[i] - 1
            positions = np.arange(int(lengths.sum()), dtype=np.int64) + np.repeat(starts - (np.cumsum(lengths)
                                                                                            - lengths), lengths)
            np.add.at(sums, self.indices[positions], self.data[positions])
        return sums


def _mapped(path: Path, info: zipfile.ZipInfo) -> np.ndarray | None:
    """The array of the .npz at `path` that `info` describes, memory-mapped where the archive stores it
    uncompressed, else None."""
    name = info.filename
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as handle:
        handle.seek(info.header_offset)
        header = handle.read(30)  # the member's local header: its name and extra field lengths at bytes 26 and 28
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise ValueError(f"{path.name}: damaged archive member {name}")
        names, extra = struct.unpack("<HH", header[26:30])
        handle.seek(info.header_offset + 30 + names + extra)
        shape, fortran, dtype, offset = read_npy_header(handle)
    if dtype.hasobject or info.file_size < offset - info.header_offset - 30 - names - extra + dtype.itemsize * int(
            np.prod(shape)):
        raise ValueError(f"{path.name}: damaged array {name}")
    if not np.prod(shape):
        return np.zeros(shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")
