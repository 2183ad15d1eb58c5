"""Passages embedded by a model, each distinct text once, what the previous build embedded reused."""
from __future__ import annotations

import sys
from typing import Callable, Sequence

import numpy as np

from indexer.passages import Passage
from kb.embedding.encoders import Encoder
from kb.errors import BuildError


def embed_passages(passages: Sequence[Passage], cached: Callable[[str], np.ndarray | None],
                   get_encoder: Callable[[], Encoder], batch_size: int, show_progress: bool
                   ) -> tuple[np.ndarray, int, int]:
    """The embedding matrix (one row per passage), distinct texts embedded, passages served from the cache
    (`cached`: a passage hash's vector from the previous build, or None)."""
    by_hash: dict[str, np.ndarray] = {}
    for p in passages:
        if p.hash not in by_hash:
            vector = cached(p.hash)
            if vector is not None:
                by_hash[p.hash] = vector
    reused = sum(p.hash in by_hash for p in passages)
    # Each distinct text is embedded once; similar lengths are batched together so little is padding.
    missing = sorted({p.hash: p.text for p in passages if p.hash not in by_hash}.items(), key=lambda kv: len(kv[1]))
    if missing:
        encoder = get_encoder()
        from tqdm import tqdm

        with tqdm(total=len(missing), unit="passage", desc="embedding", disable=not show_progress,
                  file=sys.stderr) as bar:
            for start in range(0, len(missing), batch_size):
                batch = missing[start:start + batch_size]
                encoded = encoder.encode_passages([text for _, text in batch])
                if encoded.shape[0] != len(batch):
                    raise BuildError(f"the embedding model returned {encoded.shape[0]} vectors for {len(batch)} passages")
                for (passage_hash, _), row in zip(batch, encoded):
                    by_hash[passage_hash] = row
                bar.update(len(batch))
    dims = {v.shape[0] for v in by_hash.values()}
    if len(dims) > 1:
        raise BuildError(f"embeddings of different sizes {sorted(dims)}: clear the index and rebuild")
    if len(dims) == 0 or 0 in dims:
        raise BuildError("the embedding model returned no vectors")
    matrix = np.vstack([by_hash[p.hash] for p in passages]).astype(np.float32)
    return matrix, len(missing), reused
