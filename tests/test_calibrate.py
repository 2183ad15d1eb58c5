"""Confidence calibration from the help center's own questions, on synthetic embeddings with known geometry."""
from __future__ import annotations

import numpy as np

from indexer.calibrate import train_models
from kb.index.classifier import confidence_features


def clustered(seed: int = 11, articles: int = 30, questions: int = 6, dim: int = 48):
    """Each article's passages lie around its own direction; categories group five articles each."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(articles, dim))
    centers /= np.linalg.norm(centers, axis=1, keepdims=True)
    rows, ids, kinds = [], [], []
    for a in range(articles):
        for kind in ["question"] * questions + ["summary", "section"]:
            v = centers[a] + rng.normal(size=dim) / np.sqrt(dim) * 0.6
            rows.append(v / np.linalg.norm(v))
            ids.append(f"a{a:02d}")
            kinds.append(kind)
    category = {f"a{a:02d}": f"c{a // 5}" for a in range(articles)}
    return np.array(rows, dtype=np.float32), ids, kinds, category, centers, rng


def features_for(query: np.ndarray, embeddings: np.ndarray, ids: list[str], kinds: list[str]) -> np.ndarray:
    sums: dict[str, np.ndarray] = {}
    for v, a, k in zip(embeddings, ids, kinds):
        if k != "section":
            sums[a] = sums.get(a, 0) + v
    centroid = max(float(s @ query / np.linalg.norm(s)) for s in sums.values())
    return confidence_features(embeddings @ query, centroid)


def test_confidence_separates_covered_from_uncovered_questions():
    embeddings, ids, kinds, category, centers, rng = clustered()
    calibration = train_models(embeddings, ids, kinds, category)
    dim = embeddings.shape[1]
    covered = centers[:10] + rng.normal(size=(10, dim)) / np.sqrt(dim) * 0.6
    uncovered = rng.normal(size=(10, dim))  # directions no article is about
    confidence = calibration.confidence
    inside = [float(confidence.predict(features_for(q / np.linalg.norm(q), embeddings, ids, kinds))[0])
              for q in covered]
    outside = [float(confidence.predict(features_for(q / np.linalg.norm(q), embeddings, ids, kinds))[0])
               for q in uncovered]
    assert min(inside) > max(outside)
    assert np.mean(inside) > 0.5 > np.mean(outside)
    assert calibration.report["held_out_questions"] == 30
    assert calibration.report["held_out_vector_top1"] > 0.8


def test_confidence_grows_with_closeness():
    embeddings, ids, kinds, category, *_ = clustered()
    confidence = train_models(embeddings, ids, kinds, category).confidence
    near = confidence.predict(confidence_features(np.array([0.9, 0.85, 0.8, 0.8, 0.7]), 0.9))[0]
    far = confidence.predict(confidence_features(np.array([0.3, 0.25, 0.2, 0.2, 0.2]), 0.3))[0]
    assert near > far


def test_threshold_follows_the_false_positive_rate():
    embeddings, ids, kinds, category, *_ = clustered()
    rows = [r for r, k in enumerate(kinds) if k == "question"]
    for rate in (0.05, 0.3):
        calibration = train_models(embeddings, ids, kinds, category, embeddings[rows], [ids[r] for r in rows], rows,
                                   false_positive_rate=rate)
        # the share of uncovered calibration searches still confident is the one asked for
        assert abs(calibration.report["uncovered_confident"] - rate) <= 0.02
    strict = train_models(embeddings, ids, kinds, category, embeddings[rows], [ids[r] for r in rows], rows, 0.05)
    loose = train_models(embeddings, ids, kinds, category, embeddings[rows], [ids[r] for r in rows], rows, 0.3)
    assert loose.report["covered_confident"] >= strict.report["covered_confident"]

