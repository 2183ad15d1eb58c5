"""Confidence calibration from the help center's own questions, on synthetic embeddings with known geometry."""
from __future__ import annotations

import json

import numpy as np
import pytest

from indexer.calibrate import SectionSearches, fit_curve, language_shifts, searched_cases, section_cases, train_models
from kb.index.classifier import CONFIDENCE_FEATURES, ConfidenceModel, confidence_features


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


def test_each_language_gets_its_own_operating_point():
    """Texts of one language that all share an accent have higher cosines to each other, covered or not: one shared
    operating point would offer its uncovered searches far more often than the chosen rate. That language gets a
    stricter point of its own, at the rate; the other keeps the shared one (never a laxer point)."""
    embeddings, ids, kinds, category, _centers, rng = clustered(seed=5)
    accent = rng.normal(size=embeddings.shape[1])
    accent /= np.linalg.norm(accent)
    accented = np.array([int(a[1:]) >= 15 for a in ids])
    embeddings = embeddings + np.outer(accented, accent).astype(np.float32) * 0.9
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    rows = [r for r, k in enumerate(kinds) if k == "question"]
    languages = ["ru" if accented[r] else "en" for r in rows]
    trained = train_models(embeddings, ids, kinds, category, embeddings[rows], [ids[r] for r in rows], rows, 0.2,
                           query_languages=languages)
    shifts = trained.confidence.language_shift
    assert shifts["ru"] < 0 and "en" not in shifts
    shared = train_models(embeddings, ids, kinds, category, embeddings[rows], [ids[r] for r in rows], rows, 0.2)
    assert shared.confidence.language_shift == {}

    x, y, _top1, _pairs, origins = searched_cases(embeddings, ids, kinds, embeddings[rows], [ids[r] for r in rows],
                                                  rows)
    row_languages = np.array([languages[o] for o in origins])
    uncovered = x[(y == 0) & (row_languages == "ru")]
    own = float(np.mean(trained.confidence.predict(uncovered, language="ru") >= 0.5))
    common = float(np.mean(shared.confidence.predict(uncovered) >= 0.5))
    assert abs(own - 0.2) < 0.05 and common > 0.3  # what the shared point did to it
    uncovered = x[(y == 0) & (row_languages == "en")]
    assert float(np.mean(trained.confidence.predict(uncovered, language="en") >= 0.5)) < 0.2
    foreign = trained.confidence.predict(x[:1], foreign=True, language="ru")  # a translation's cost replaces it
    assert foreign[0] == pytest.approx(trained.confidence.predict(x[:1], foreign=True)[0])
    again = ConfidenceModel.from_json(json.loads(json.dumps(trained.confidence.to_json())))
    assert again.language_shift == shifts


def test_a_language_with_few_searches_keeps_the_shared_point():
    model = ConfidenceModel(["a"], np.array([1.0]), 0.0)
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(-2, 0, 200), rng.uniform(-1, 1, 39)])[:, None]
    y = np.zeros(len(x), int)
    x[:200] += 1.5  # the English searches' scores run higher: their own point is stricter
    shifts = language_shifts(model, x, y, ["en"] * 200 + [None] * 39, 0.25)
    assert set(shifts) == {"en"} and shifts["en"] < 0
    assert float(np.mean(x[:200, 0] + shifts["en"] >= 0)) == pytest.approx(0.25, abs=0.01)
    assert language_shifts(model, x - 3.0, y, ["en"] * 200 + [None] * 39, 0.25) == {}  # never laxer


def sections_of(embeddings, ids, kinds, rng, articles=("a03", "a17"), noise=0.5):
    """One heading search per article: its query near the article's direction; the article's section passage
    hidden; a stand-in (the section's text) nearer still."""
    rows, queries, stand_ins = [], [], []
    for article in articles:
        section_row = next(r for r, (a, k) in enumerate(zip(ids, kinds)) if a == article and k == "section")
        direction = embeddings[[r for r, a in enumerate(ids) if a == article]].mean(axis=0)
        query = direction + rng.normal(size=direction.size) / np.sqrt(direction.size) * noise
        rows.append((section_row,))
        queries.append(query / np.linalg.norm(query))
        stand_ins.append(direction / np.linalg.norm(direction))
    return SectionSearches(np.array(queries, np.float32), list(articles), rows, np.array(stand_ins, np.float32),
                           [None] * len(articles), [f"heading {a}" for a in articles], [""] * len(articles))


def test_heading_searches_are_covered_by_their_sections_text_and_uncovered_without_their_article():
    embeddings, ids, kinds, category, _, rng = clustered()
    sections = sections_of(embeddings, ids, kinds, rng)
    x, y, origins = section_cases(embeddings, ids, kinds, sections)
    assert y.tolist() == [1, 0, 1, 0] and origins == [0, 0, 1, 1]
    top = CONFIDENCE_FEATURES.index("top_cosine")
    for n in range(2):
        query = sections.queries[n]
        own = [r for r, a in enumerate(ids) if a == sections.articles[n] and r not in sections.hidden[n]]
        others = [r for r, a in enumerate(ids) if a != sections.articles[n]]
        # covered: the best of the article's other passages and the stand-in; the hidden section is not searched
        assert x[2 * n, top] == pytest.approx(max(float(sections.stand_ins[n] @ query),
                                                  float((embeddings[own + others] @ query).max())), abs=1e-5)
        # uncovered: only other articles' passages
        assert x[2 * n + 1, top] == pytest.approx(float((embeddings[others] @ query).max()), abs=1e-5)
        assert x[2 * n, top] > x[2 * n + 1, top]
    # the hidden section no longer counts: a stand-in far from the query leaves the covered case below a search
    # that could see the section itself
    far = SectionSearches(sections.queries, sections.articles, sections.hidden, -sections.stand_ins, [None, None],
                          sections.texts, sections.rests)
    x_far, *_ = section_cases(embeddings, ids, kinds, far)
    assert (x_far[0::2, top] <= x[0::2, top] + 1e-9).all()


def test_heading_searches_join_the_calibration():
    embeddings, ids, kinds, category, _, rng = clustered()
    rows = [r for r, k in enumerate(kinds) if k == "question"][:60]
    sections = sections_of(embeddings, ids, kinds, rng, articles=tuple(sorted(set(ids))))
    _, without = fit_curve(embeddings, ids, kinds, embeddings[rows], [ids[r] for r in rows], rows, 0.2)
    _, with_sections = fit_curve(embeddings, ids, kinds, embeddings[rows], [ids[r] for r in rows], rows, 0.2,
                                 sections=sections)
    assert without["section_searches"] == 0 and with_sections["section_searches"] == 30
    # the threshold still lets through the asked share of all uncovered searches, headings' included
    assert abs(with_sections["uncovered_confident"] - 0.2) <= 0.03
