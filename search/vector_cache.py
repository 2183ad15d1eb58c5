"""Query vectors kept on disk between runs of `kb gaps`: the texts customers fail with change slowly, and embedding
them is most of the command's time, so a text is embedded once per model.

One file per model, `<folder>/gap-vectors-<model>.npz`: each text's SHA-256 digest and its float32 row, so that
what customers typed is never written outside the database (whose retention period and purge it follows). It is
written whole to a temporary file and renamed into place; the most recently used `limit` texts are kept (the help
center's questions that the grouping threshold is read from among them). A cache that cannot be read is treated as empty; one that
cannot be written is left as it was: it only saves time.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

LIMIT = 20_000


class VectorCache:
    def __init__(self, folder: Path, model: str, dimension: int, limit: int = LIMIT) -> None:
        self.folder, self.dimension, self.limit = Path(folder), dimension, limit
        self.path = self.folder / f"gap-vectors-{re.sub(r'[^A-Za-z0-9._-]+', '-', model)}.npz"
        self._vectors: dict[str, np.ndarray] = {}  # by digest of the text
        self._changed = False
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
            if vectors.ndim == 2 and vectors.shape == (len(keys), dimension):
                self._vectors = {str(k): v for k, v in zip(keys, vectors.astype(np.float32))}
        except (OSError, ValueError, KeyError):
            pass

    def __len__(self) -> int:
        return len(self._vectors)

    def vectors(self, texts: Sequence[str], embed) -> np.ndarray:
        """Rows for `texts`: cached ones as kept, the others from `embed(list of texts) -> matrix`, then kept."""
        keys = [_digest(t) for t in texts]
        missing = {key: text for key, text in zip(keys, texts) if key not in self._vectors}
        if missing:
            self._vectors.update(zip(missing, np.asarray(embed(list(missing.values())), dtype=np.float32)))
            self._changed = True
        for key in keys:  # most recently used last: what `save` keeps
            self._vectors[key] = self._vectors.pop(key)
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self.dimension), np.float32)

    def save(self) -> None:
        """Write the cache when new texts were embedded (the most recently used `limit`)."""
        if not self._changed:
            return
        keys = list(self._vectors)[-self.limit:]
        self._write(self.path, lambda handle: np.savez(handle, keys=np.array(keys, dtype=str),
                                                       vectors=np.stack([self._vectors[k] for k in keys])))
        self._changed = False

    def _write(self, path: Path, write) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            handle = tempfile.NamedTemporaryFile(dir=self.folder, prefix=".tmp-gap-", delete=False)
        except OSError:
            return
        try:
            with handle:
                write(handle)
            os.replace(handle.name, path)
        except OSError:
            Path(handle.name).unlink(missing_ok=True)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
