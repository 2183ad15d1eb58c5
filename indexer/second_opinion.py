"""A second model's view of confidence, built beside a multilingual index.

A multilingual model spreads one vector space over many languages, and on English text its cosines tell an answered
question from an unanswered one less sharply than the English model's do (bench/deflection.py measures both). So an
index built with a multilingual model also holds the English model's vectors of every passage and its own
confidence curve, calibrated the same way (indexer/calibrate.py) on the searches that model reads: the titles,
descriptions and questions written in Latin letters. The search service asks it about a query in Latin letters and
is confident when either model is (search/second_opinion.py). Nothing else changes: ranking, categories and the
lists still come from the index's own model.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from indexer.audiences import passage_rows, section_searches, write_partition_vectors
from indexer.calibrate import CALIBRATION, fit_curve
from indexer.embed import embed_passages
from indexer.held_out import each_text_once, embed_held_out, held_out_sections, held_out_texts
from indexer.passages import Passage, question_centroids
from kb.articles import Article
from kb.config import Settings
from kb.embedding.encoders import ENGLISH_MODEL, MULTILINGUAL_MODELS, Encoder, query_path
from kb.errors import KbError
from kb.index.classifier import CONFIDENCE_FEATURES
from kb.index.layout import IndexFiles
from kb.index.manifest import AUDIENCES, FORMAT_VERSION, read_manifest
from kb.language import latin_only, query_language

SECOND_MODEL = ENGLISH_MODEL


def second_model_for(settings: Settings, model_name: str) -> str | None:
    """The model that gives a second opinion on confidence for an index built with `model_name`: the English
    model, for a multilingual one (when `english_second_opinion` is on); None otherwise."""
    if not settings.english_second_opinion or model_name not in MULTILINGUAL_MODELS:
        return None
    return SECOND_MODEL


@dataclass
class _Previous:
    """The second model's passage vectors and curves in the index a build replaces, by passage hash."""

    rows: dict[str, int]
    matrix: np.ndarray | None
    entry: dict

    @classmethod
    def load(cls, directory: Path | None, model: str) -> "_Previous":
        if directory is None:
            return cls({}, None, {})
        try:
            manifest = read_manifest(directory, any_format=True)
            entry = manifest.second_opinion
            if entry.get("model") != model:
                return cls({}, None, {})
            if manifest.format_version != FORMAT_VERSION:  # an older kb's build: its vectors alone are reused
                entry = {}
            files = IndexFiles(directory)
            hashes = [p["hash"] for p in json.loads(files.passages.read_text(encoding="utf-8"))]
            matrix = np.load(files.second_embeddings, mmap_mode="r")
        except (KbError, OSError, ValueError, KeyError, TypeError):
            return cls({}, None, {})
        if len(hashes) != len(matrix):
            return cls({}, None, {})
        return cls({h: i for i, h in enumerate(hashes)}, matrix, entry)

    def embedding(self, passage_hash: str) -> np.ndarray | None:
        row = self.rows.get(passage_hash)
        return None if row is None or self.matrix is None else np.asarray(self.matrix[row])

    def curve(self, audience: str, key: str) -> dict | None:
        if self.entry.get("training_keys", {}).get(audience) != key:
            return None
        curve = self.entry.get("confidence", {}).get(audience)
        return curve if isinstance(curve, dict) else None


def build_second_opinion(staging: Path, articles: list[Article], passages: list[Passage], model: str,
                         get_encoder: Callable[[], Encoder], previous_dir: Path | None, settings: Settings,
                         translations: Mapping[str, Mapping[str, str]], progress: bool) -> dict:
    """Write the second model's passage vectors and question centroids into `staging` and calibrate its curve per
    audience; the manifest's `second_opinion` entry. Vectors and curves of the previous build are reused (an
    unchanged rebuild loads no model)."""
    previous = _Previous.load(previous_dir, model)
    embeddings, embedded, reused = embed_passages(passages, previous.embedding, get_encoder,
                                                  settings.embedding_batch_size, progress)
    files = IndexFiles(staging)
    np.save(files.second_embeddings, embeddings)  # (what the next build reuses)
    # what a query's second opinion searches: exact, or an inverted file when large
    write_partition_vectors(files.second_vectors, articles, passages, embeddings, settings.exact_search_max)
    np.save(files.second_centroids, question_centroids(articles, passages, embeddings))
    group_of = {key: min(versions.values()) for key, versions in translations.items()}
    curves: dict[str, dict] = {}
    keys: dict[str, str] = {}
    encoders = (each_text_once(lambda batch: get_encoder().encode_queries(batch)),
                each_text_once(lambda batch: get_encoder().encode_passages(batch)))
    for audience, allowed in AUDIENCES.items():
        rows = passage_rows(articles, passages, allowed)
        keys[audience] = key = _training_key(model, settings.confidence_false_positive_rate, passages, rows,
                                             query_path(model, settings.query_runtime))
        same = next((a for a in curves if keys[a] == key), None)
        curve = curves[same] if same else previous.curve(audience, key)
        if curve is None:
            curve = _calibrate(articles, passages, rows, embeddings, encoders, settings, group_of)
        curves[audience] = curve
    return {"model": model, "dimension": int(embeddings.shape[1]), "embedded": embedded, "reused": reused,
            "training_keys": keys, "confidence": curves}


def _calibrate(articles: list[Article], passages: list[Passage], rows: list[int], embeddings: np.ndarray,
               encoders: tuple[Callable[[Sequence[str]], np.ndarray], Callable[[Sequence[str]], np.ndarray]],
               settings: Settings, group_of: Mapping[str, str]) -> dict:
    """One audience's curve from the searches of its titles, descriptions, questions and sub-section headings in
    Latin letters."""
    held_read = held_out_texts(articles, passages, rows).only(latin_only)
    texts = held_read.texts
    if not texts:
        return {"features": CONFIDENCE_FEATURES, "coef": [0.0] * len(CONFIDENCE_FEATURES), "intercept": -20.0,
                "searches": 0}  # nothing it reads: never confident
    encode_queries, encode_passages = encoders  # (as queries; as passages)
    queries = embed_held_out(held_read, encode_queries)
    local = {row: n for n, row in enumerate(rows)}
    sections = section_searches(held_out_sections(articles, passages, rows), local, latin_only, encode_queries,
                                encode_passages)
    curve, report = fit_curve(embeddings[rows], [passages[r].article_id for r in rows],
                              [passages[r].kind for r in rows], queries, held_read.articles,
                              [local.get(r, -1) for r in held_read.hidden], settings.confidence_false_positive_rate,
                              group_of, [query_language(t) for t in texts], sections)
    return {**curve.to_json(), "searches": len(texts), **report}


def _training_key(model: str, false_positive_rate: float, passages: Sequence[Passage], rows: list[int],
                  queries: str) -> str:
    return hashlib.sha256("\n".join([model, " ".join(CONFIDENCE_FEATURES), CALIBRATION, str(false_positive_rate),
                                     "queries: " + queries] + [
        f"{passages[r].hash} {passages[r].kind} {passages[r].article_id}" for r in rows]).encode("utf-8")
    ).hexdigest()[:32]
