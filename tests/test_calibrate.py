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



def test_answering_from_a_translation_is_measured_on_translated_articles():
    embeddings, ids, kinds, category, centers, rng = clustered(articles=20)
    dim = embeddings.shape[1]
    accent = rng.normal(size=dim)
    accent /= np.linalg.norm(accent)
    # a second language version of the first ten articles: the same topic, written with the language's accent
    extra, extra_ids, extra_kinds = [], [], []
    for a in range(10):
        for kind in ["question"] * 3 + ["summary"]:
            v = centers[a] + 0.8 * accent + rng.normal(size=dim) / np.sqrt(dim) * 0.6
            extra.append(v / np.linalg.norm(v))
            extra_ids.append(f"a{a:02d}-xx")
            extra_kinds.append(kind)
    all_vectors = np.vstack([embeddings, np.array(extra, dtype=np.float32)])
    all_ids, all_kinds = ids + extra_ids, kinds + extra_kinds
    category.update({f"a{a:02d}-xx": category[f"a{a:02d}"] for a in range(10)})
    group_of = {f"a{a:02d}-xx": f"a{a:02d}" for a in range(10)} | {f"a{a:02d}": f"a{a:02d}" for a in range(10)}
    rows = [r for r, k in enumerate(all_kinds) if k == "question"]
    translated = train_models(all_vectors, all_ids, all_kinds, category, all_vectors[rows], [all_ids[r] for r in rows],
                              rows, 0.3, group_of)
    assert translated.report["translated_searches"] > 0
    assert translated.confidence.foreign_shift > 0
    plain = train_models(embeddings, ids, kinds, category, embeddings[rows[:60]], [ids[r] for r in rows[:60]],
                         rows[:60], 0.3)
    assert plain.confidence.foreign_shift == 0.0 and plain.report["translated_searches"] == 0
    x = confidence_features(np.array([0.5, 0.45, 0.4, 0.4, 0.4]), 0.45)
    assert translated.confidence.predict(x, foreign=True)[0] > translated.confidence.predict(x)[0]
