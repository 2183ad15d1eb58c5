"""A small deterministic encoder for unit tests: hashed words and character trigrams, no model."""
from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

from kb.embedding.encoders import ENCODERS, normalize


class HashingEncoder:
    name = "fake-hashing"

    def __init__(self, dimension: int = 64, fail_after: int | None = None) -> None:
        self.dimension = dimension
        self.passages_encoded = 0
        self.calls = 0
        self.fail_after = fail_after

    def _vector(self, text: str) -> np.ndarray:
        vec = np.zeros(self.dimension, dtype=np.float32)
        words = re.findall(r"\w+", text.lower())
        features = words + [w[i:i + 3] for w in words for i in range(max(1, len(w) - 2))]
        for feature in features:
            digest = hashlib.md5(feature.encode("utf-8")).digest()
            vec[int.from_bytes(digest[:4], "little") % self.dimension] += 1.0 if digest[4] % 2 else -1.0
        return vec

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return normalize(np.array([self._vector(t) for t in texts]).reshape(len(texts), self.dimension))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        if self.fail_after is not None and self.passages_encoded + len(texts) > self.fail_after:
            raise RuntimeError("simulated crash while embedding")
        self.passages_encoded += len(texts)
        return self.encode_queries(texts)


# Registered beside the real models, so that settings naming it are valid (kb.config checks embedding_model against
# the registered encoders); tests that load it by name may still put their own factory in its place.
ENCODERS.setdefault(HashingEncoder.name, lambda threads, batch_size, precision, **options: HashingEncoder())
