"""Query vectors kept on disk between runs of `kb gaps`: the texts customers fail with change slowly, and embedding
them is most of the command's time, so a text is embedded once per model. The serving process keeps the file warm
(search/gap_upkeep.py), so that `kb gaps` rarely embeds anything itself.

One file per model, `<folder>/gap-vectors-<model>.npz`: each text's SHA-256 digest and its float32 row, so that
what customers typed is never written outside the database (whose retention period and purge it follows), and the
`variant` the rows were computed in (`query_variant`: the query runtime (with multilingual-e5-small's ONNX query
graph, its version), precision and query length, which change a text's vector without changing the model's name). A file of another variant or dimension is treated as empty and
replaced. A new index built with the same model needs no new vectors (a text's vector depends on the model only);
one built with another model reads another file.

Writers (`kb gaps`, the serving processes) take a lock file beside it, read the file as it is then, add their own
rows, and write the whole to a temporary file renamed into place: a reader, which takes no lock, sees the old file
or the new one, never a part, and no writer loses the rows another wrote meanwhile. The most recently used `limit`
texts are kept (the help center's questions, that the grouping threshold is read from, among them). A cache that
cannot be read is treated as empty; one that cannot be written (or locked within LOCK_SECONDS) is left as it was:
it only saves time.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from filelock import FileLock, Timeout

from kb.embedding.encoders import query_path

LIMIT = 20_000
LOCK_SECONDS = 30.0


def query_variant(settings: Any, model: str = "") -> str:
    """What, beside the model, shapes a query's vector: the runtime (and query graph) and precision it is computed
    in, and the length queries are cut to before embedding."""
    return (f"runtime={query_path(model, settings.query_runtime)} precision={settings.embedding_precision} "
            f"chars={settings.max_query_chars}")


class VectorCache:
    def __init__(self, folder: Path, model: str, dimension: int, limit: int = LIMIT, variant: str = "") -> None:
        self.folder, self.dimension, self.limit, self.variant = Path(folder), dimension, limit, variant
        self.path = self.folder / f"gap-vectors-{re.sub(r'[^A-Za-z0-9._-]+', '-', model)}.npz"
        self.embedded = 0  # texts `vectors` had to embed itself (not found in the file)
        self._requested: set[str] = set()  # digests `vectors` was asked for
        self._touched: dict[str, None] = {}  # digests used or added since the file was read, in order of use
        self._changed = False
        self._vectors, self._stamp = self._read()  # by digest of the text

    @classmethod
    def for_service(cls, folder: Path, service: Any, limit: int = LIMIT) -> "VectorCache":
        """The cache of `service`'s model and query variant."""
        return cls(folder, service.manifest.model_name, service.manifest.model_dimension, limit,
                   query_variant(service.settings, service.manifest.model_name))

    def __len__(self) -> int:
        return len(self._vectors)

    @property
    def requested(self) -> int:
        """Distinct texts `vectors` was asked for (`embedded` of them were not in the file)."""
        return len(self._requested)

    def changed_on_disk(self) -> bool:
        """Whether the file was written (by another object or process) since this one read it."""
        return self._file_stamp() != self._stamp

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts of `texts` without a vector, in order; the others count as used."""
        absent: dict[str, None] = {}
        for text in texts:
            key = _digest(text)
            if key in self._vectors:
                self._use(key)
            else:
                absent[text] = None
        return list(absent)

    def add(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep `vectors` (one row per text) as the texts' vectors."""
        for text, vector in zip(texts, np.asarray(vectors, dtype=np.float32)):
            key = _digest(text)
            self._vectors[key] = vector
            self._use(key)
        self._changed = self._changed or len(texts) > 0

    def vectors(self, texts: Sequence[str], embed) -> np.ndarray:
        """Rows for `texts`: cached ones as kept, the others from `embed(list of texts) -> matrix`, then kept."""
        keys = [_digest(t) for t in texts]
        self._requested.update(keys)
        missing = {key: text for key, text in zip(keys, texts) if key not in self._vectors}
        if missing:
            self.add(list(missing.values()), embed(list(missing.values())))
            self.embedded += len(missing)
        for key in keys:
            self._use(key)
        return np.stack([self._vectors[k] for k in keys]) if keys else np.zeros((0, self.dimension), np.float32)

    def save(self) -> None:
        """Write the cache when new texts were embedded: the file's rows as they are now, with this object's used
        and added rows as the most recent, the most recently used `limit` of them."""
        if not self._changed:
            return
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with FileLock(f"{self.path}.lock", timeout=LOCK_SECONDS):
                merged, _ = self._read()
                for key in self._touched:
                    merged.pop(key, None)
                    merged[key] = self._vectors[key]
                keys = list(merged)[-self.limit:]
                self._write(keys, np.stack([merged[k] for k in keys]))
                self._vectors = {key: merged[key] for key in keys}
                self._stamp = self._file_stamp()
        except (OSError, Timeout):
            return
        self._touched.clear()
        self._changed = False

    def _use(self, key: str) -> None:
        self._vectors[key] = self._vectors.pop(key)  # most recently used last: what `save` keeps
        self._touched.pop(key, None)
        self._touched[key] = None

    def _read(self) -> tuple[dict[str, np.ndarray], tuple[int, int] | None]:
        stamp = self._file_stamp()
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
                variant = str(data["variant"]) if "variant" in data.files else None
        except (OSError, ValueError, KeyError, EOFError):
            return {}, stamp
        if variant != self.variant or vectors.ndim != 2 or vectors.shape != (len(keys), self.dimension):
            return {}, stamp
        return {str(k): v for k, v in zip(keys, vectors.astype(np.float32))}, stamp

    def _write(self, keys: list[str], vectors: np.ndarray) -> None:
        handle = tempfile.NamedTemporaryFile(dir=self.folder, prefix=".tmp-gap-", suffix=".npz", delete=False)
        try:
            with handle:
                np.savez(handle, keys=np.array(keys, dtype=str), vectors=vectors, variant=np.array(self.variant))
            os.replace(handle.name, self.path)
        except OSError:
            Path(handle.name).unlink(missing_ok=True)
            raise

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
