"""The second opinion on confidence at query time: the English model's calibrated confidence for a query in Latin
letters, over an index built with a multilingual model (indexer/second_opinion.py explains why). The service is
confident when either model is, and asks this one only when its own model is not confident. Its features are
computed as at calibration: the nearest passages' cosines and the best question centroid over everything the
audience may read. The nearest passages come from that model's vector indexes, one per article audience like the
index's own (kb.index.vector: exact, or an inverted file for a large help center, which scans a few cells instead
of every passage for each query)."""
from __future__ import annotations

from typing import Mapping

import numpy as np

from kb.config import Settings
from kb.embedding.encoders import Encoder, load_encoder
from kb.errors import IndexFormatError
from kb.index.classifier import CONFIDENCE_FEATURES, KNN, ConfidenceModel, confidence_features
from kb.index.keyword import PARTITIONS
from kb.index.layout import IndexFiles
from kb.index.manifest import AUDIENCES, Manifest
from kb.index.records import IndexedArticle
from kb.index.vector import PartitionedVectors, VectorIndex
from kb.language import latin_only

# One query model per process, whichever index a serving process reloads (search/live.py).
_LOADED: dict[tuple, Encoder] = {}
_KEEP_QUERIES = 2048


def _encoder(model: str, settings: Settings) -> Encoder:
    key = (model, settings.embedding_precision, settings.query_runtime, str(settings.model_cache_dir))
    if key not in _LOADED:
        _LOADED[key] = load_encoder(model, settings.embedding_threads, settings.embedding_batch_size,
                                    settings.embedding_precision, settings.query_runtime, settings.model_cache_dir)
    return _LOADED[key]


class SecondOpinion:
    """The second model's passage vectors, searched per audience over the partitions it may read, and per audience
    the question centroids it may read and its curve."""

    def __init__(self, encoder: Encoder, vectors: PartitionedVectors, centroids: np.ndarray,
                 centroid_rows: Mapping[str, np.ndarray], curves: Mapping[str, ConfidenceModel]) -> None:
        self.encoder = encoder
        self._vectors, self._curves = vectors, curves
        self._centroids, self._centroid_rows = centroids, centroid_rows  # every article's; each audience's rows
        self._queries: dict[str, np.ndarray] = {}

    @classmethod
    def load(cls, files: IndexFiles, manifest: Manifest, articles: Mapping[str, IndexedArticle],
             rows: Mapping[str, np.ndarray], settings: Settings,
             encoder: Encoder | None = None) -> "SecondOpinion | None":
        """The index's second opinion, None when it has none or `english_second_opinion` is off. `rows`: the passage
        rows of each partition's articles (kb.index.vector.PartitionedVectors), as the index's own vectors have them."""
        entry = manifest.second_opinion
        if not entry or not settings.english_second_opinion:
            return None
        try:
            model, dimension = str(entry["model"]), int(entry["dimension"])
            curves = {a: ConfidenceModel.from_json(entry["confidence"][a]) for a in AUDIENCES}
            centroids = np.load(files.second_centroids, mmap_mode="r")  # shared by the workers, as the vectors
            indexes = {name: VectorIndex(files.second_vectors(name), dimension) for name in PARTITIONS}
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise IndexFormatError(f"{files.directory}: unreadable second opinion ({exc}); rebuild the index") from None
        ids = sorted(articles)
        if len(centroids) != len(ids):
            raise IndexFormatError(f"{files.directory}: second opinion of {len(centroids)} centroids for "
                                   f"{len(ids)} articles")
        if any(curve.features != CONFIDENCE_FEATURES for curve in curves.values()):
            raise IndexFormatError(f"{files.directory}: second opinion over other features; rebuild the index")
        encoder = encoder or _encoder(model, settings)
        if encoder.dimension != dimension:
            raise IndexFormatError(f"{files.directory}: second opinion of {dimension}-d vectors, "
                                   f"{encoder.name!r} gives {encoder.dimension}-d")
        centroid_rows = {audience: np.array([n for n, key in enumerate(ids) if articles[key].audience in allowed],
                                            dtype=np.int64) for audience, allowed in AUDIENCES.items()}
        return cls(encoder, PartitionedVectors(indexes, rows, files.second_embeddings), centroids, centroid_rows,
                   curves)

    def warm(self) -> None:
        self.encoder.encode_queries(["warm-up"])

    def confidence(self, text: str, audience: str, language: str | None, foreign: bool) -> float:
        """The second model's confidence that the help center answers `text` (0 for text it cannot read)."""
        if not latin_only(text):
            return 0.0
        query = self._queries.get(text)
        if query is None:
            query = self._queries[text] = self.encoder.encode_queries([text])[0]
            if len(self._queries) > _KEEP_QUERIES:
                self._queries.pop(next(iter(self._queries)))
        nearest, _ = self._vectors.search(query, KNN, AUDIENCES[audience])
        if not nearest.size:
            return 0.0
        rows = self._centroid_rows[audience]
        best_centroid = float((self._centroids @ query)[rows].max()) if len(rows) else 0.0
        features = confidence_features(nearest[0], best_centroid)
        return float(self._curves[audience].predict(features, foreign, language)[0])
