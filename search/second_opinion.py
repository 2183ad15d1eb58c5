"""The second opinion on confidence at query time: the English model's calibrated confidence for a query in Latin
letters, over an index built with a multilingual model (indexer/second_opinion.py explains why). The service is
confident when either model is. Its features are computed as at calibration: the nearest passages' cosines and the
best question centroid over everything the audience may read (one matrix product: a help center's passages)."""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from kb.config import Settings
from kb.embedding.encoders import Encoder, load_encoder
from kb.errors import IndexFormatError
from kb.index.classifier import CONFIDENCE_FEATURES, KNN, ConfidenceModel, confidence_features
from kb.index.layout import IndexFiles
from kb.index.manifest import AUDIENCES, Manifest
from kb.index.records import IndexedArticle, IndexedPassage
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
    """The second model's passage vectors (one matrix, every passage's), and per audience the rows of the passages
    it may read (None: all of them), the question centroids it may read and its curve."""

    def __init__(self, encoder: Encoder, vectors: np.ndarray, rows: Mapping[str, np.ndarray | None],
                 centroids: Mapping[str, np.ndarray], curves: Mapping[str, ConfidenceModel]) -> None:
        self.encoder = encoder
        self._vectors, self._rows, self._centroids, self._curves = vectors, rows, centroids, curves
        self._queries: dict[str, np.ndarray] = {}

    @classmethod
    def load(cls, files: IndexFiles, manifest: Manifest, articles: Mapping[str, IndexedArticle],
             passages: Sequence[IndexedPassage], settings: Settings,
             encoder: Encoder | None = None) -> "SecondOpinion | None":
        """The index's second opinion, None when it has none or `english_second_opinion` is off."""
        entry = manifest.second_opinion
        if not entry or not settings.english_second_opinion:
            return None
        try:
            model, dimension = str(entry["model"]), int(entry["dimension"])
            curves = {a: ConfidenceModel.from_json(entry["confidence"][a]) for a in AUDIENCES}
            # Memory-mapped, read only: the pages are the file's, shared by every worker serving this build.
            vectors = np.load(files.second_embeddings, mmap_mode="r")
            centroids = np.load(files.second_centroids)
        except (KeyError, TypeError, ValueError, OSError) as exc:
            raise IndexFormatError(f"{files.directory}: unreadable second opinion ({exc}); rebuild the index") from None
        ids = sorted(articles)
        if vectors.shape != (len(passages), dimension) or len(centroids) != len(ids):
            raise IndexFormatError(f"{files.directory}: second opinion of {vectors.shape} vectors and "
                                   f"{len(centroids)} centroids for {len(passages)} passages and {len(ids)} articles")
        if any(curve.features != CONFIDENCE_FEATURES for curve in curves.values()):
            raise IndexFormatError(f"{files.directory}: second opinion over other features; rebuild the index")
        encoder = encoder or _encoder(model, settings)
        if encoder.dimension != dimension:
            raise IndexFormatError(f"{files.directory}: second opinion of {dimension}-d vectors, "
                                   f"{encoder.name!r} gives {encoder.dimension}-d")
        by_audience, centroid_rows = {}, {}
        for audience, allowed in AUDIENCES.items():
            rows = [row for row, p in enumerate(passages) if articles[p.article].audience in allowed]
            by_audience[audience] = None if len(rows) == len(passages) else np.array(rows, dtype=np.int64)
            centroid_rows[audience] = np.ascontiguousarray(
                centroids[[n for n, key in enumerate(ids) if articles[key].audience in allowed]])
        return cls(encoder, vectors, by_audience, centroid_rows, curves)

    def warm(self) -> None:
        self.encoder.encode_queries(["warm-up"])

    def confidence(self, text: str, audience: str, language: str | None, foreign: bool) -> float:
        """The second model's confidence that the help center answers `text` (0 for text it cannot read)."""
        rows = self._rows[audience]
        if not latin_only(text) or not len(self._vectors) or rows is not None and not len(rows):
            return 0.0
        query = self._queries.get(text)
        if query is None:
            query = self._queries[text] = self.encoder.encode_queries([text])[0]
            if len(self._queries) > _KEEP_QUERIES:
                self._queries.pop(next(iter(self._queries)))
        cosines = np.asarray(self._vectors @ query)
        cosines = cosines if rows is None else cosines[rows]
        nearest = np.partition(cosines, -KNN)[-KNN:] if len(cosines) > KNN else cosines
        centroids = self._centroids[audience]
        best_centroid = float((centroids @ query).max()) if len(centroids) else 0.0
        features = confidence_features(nearest, best_centroid)
        return float(self._curves[audience].predict(features, foreign, language)[0])
