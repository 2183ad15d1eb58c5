"""Training the category classifier and calibrating answer confidence from the help center's own texts.

Calibration searches each held-out text (indexer/held_out.py: titles, descriptions, questions, embedded as
queries), with vectors only, twice:
- a covered case: against the index without the passage the text comes from — its article is still there, as
  for a customer whose problem the help center answers;
- for an article with translations, a covered case in another language: against the index without the article's
  own version — a customer writing in a language the article has no version in;
- an uncovered case: against the index without its whole article and the article's translations — what a
  question no article answers looks like, however close the neighbouring articles are.
Sub-section headings are searched too (indexer/held_out.py HeldOutSections): covered with their section's passages
replaced by its text alone (an answer in other words), uncovered without their article. Titles and descriptions
sit closer to their articles than what customers ask does; on a help center of long articles with few questions,
headings searched so are what brings the calibration's covered searches down to where customers' questions lie.
A logistic curve over the score features of those cases (kb.index.classifier.confidence_features: how close the
nearest passages and question centroids are) orders queries by how likely the help center answers them; its 0.5
point (the default threshold) is placed where a chosen share of the uncovered cases is still confident (the
false-positive rate a help desk accepts, `confidence_false_positive_rate`). Without query texts it falls back to
held-out question passages, one per article (seeded). The held-out top-1 of the vector ranking is reported
beside it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from indexer.held_out import MAX_HELD_OUT
from indexer.passages import question_sums
from kb.index.classifier import CONFIDENCE_FEATURES, KNN, CategoryClassifier, ConfidenceModel, confidence_features

CALIBRATION = ("searches of titles, descriptions, questions and sub-section headings; threshold at a false-positive "
               "rate, per language; translation shift")
MIN_LANGUAGE_SEARCHES = 40  # uncovered searches a language needs for an operating point of its own
MAX_TRAINING = 6000  # passages the classifier is trained on: all questions and summaries first, then sections


@dataclass
class Calibration:
    classifier: CategoryClassifier
    confidence: ConfidenceModel
    report: dict


def train_models(embeddings: np.ndarray, passage_articles: list[str], passage_kinds: list[str],
                 article_category: dict[str, str], queries: np.ndarray | None = None,
                 query_articles: list[str] | None = None, hidden: list[int] | None = None,
                 false_positive_rate: float | None = None, group_of: Mapping[str, str] | None = None,
                 query_languages: Sequence[str | None] | None = None, seed: int = 13,
                 sections: SectionSearches | None = None) -> Calibration:
    """Classifier over all passages, and a confidence model from searches of the help center's own texts
    (`queries`, embedded as queries, from `query_articles`, each without its `hidden` passage row, written in
    `query_languages` as kb.language tells them; see indexer/held_out.py) and of its sub-section headings
    (`sections`), else from held-out question passages (see module doc)."""
    labels = [article_category[a] for a in passage_articles]
    rng = random.Random(seed)
    by_article: dict[str, list[int]] = {}
    for row, (article, kind) in enumerate(zip(passage_articles, passage_kinds)):
        if kind == "question":
            by_article.setdefault(article, []).append(row)
    candidates = sorted(a for a, rows in by_article.items() if len(rows) >= 2)
    held_articles = rng.sample(candidates, min(MAX_HELD_OUT, len(candidates)))
    held_rows = sorted(rng.choice(by_article[a]) for a in held_articles)
    report: dict = {"held_out_questions": len(held_rows)}

    training = training_rows(passage_kinds, rng)
    classifier = CategoryClassifier.train(embeddings[training], [labels[r] for r in training])
    report["trained_on_passages"] = len(training)
    if queries is None:
        queries, query_articles, hidden = embeddings[held_rows], [passage_articles[r] for r in held_rows], held_rows
    report["calibration_searches"] = len(query_articles or [])
    if not query_articles or len(set(passage_articles)) < 2:
        confidence = ConfidenceModel(CONFIDENCE_FEATURES, np.eye(len(CONFIDENCE_FEATURES))[0] * 10.0, -5.0)
        report["confidence"] = "default curve on the answer's cosine (too few questions to calibrate)"
        return Calibration(classifier, confidence, report)

    if held_rows:
        report["held_out_category_accuracy"] = _category_accuracy(embeddings, labels, training, held_rows)
    confidence, fit_report = fit_curve(embeddings, passage_articles, passage_kinds, queries, query_articles, hidden,
                                       false_positive_rate, group_of, query_languages, sections)
    report.update(fit_report)
    return Calibration(classifier, confidence, report)


@dataclass
class SectionSearches:
    """Sub-section headings embedded as queries, with their articles, the rows of their sections' passages
    (hidden from their searches) and their sections' texts embedded as passages (standing in for those rows):
    indexer/held_out.py HeldOutSections, embedded. `texts` and `rests`, the headings and each article's other
    headings, are for the fusion fit's keyword searches (indexer/fusion_fit.py)."""

    queries: np.ndarray
    articles: list[str]
    hidden: list[tuple[int, ...]]
    stand_ins: np.ndarray
    languages: list[str | None]
    texts: list[str]
    rests: list[str]


def fit_curve(embeddings: np.ndarray, passage_articles: list[str], passage_kinds: list[str], queries: np.ndarray,
              query_articles: list[str], hidden: list[int], false_positive_rate: float | None,
              group_of: Mapping[str, str] | None = None, query_languages: Sequence[str | None] | None = None,
              sections: SectionSearches | None = None) -> tuple[ConfidenceModel, dict]:
    """The confidence curve from the searches of `queries` (see train_models) and of `sections`' headings, and what
    it reports: searches answered by a translation, the vector ranking's held-out top-1, the covered and uncovered
    shares confident."""
    x, y, top1, pairs, origins = searched_cases(embeddings, passage_articles, passage_kinds, queries, query_articles,
                                                hidden, group_of)
    languages = [query_languages[o] for o in origins] if query_languages is not None else None
    if sections is not None and sections.articles:
        x_s, y_s, origins_s = section_cases(embeddings, passage_articles, passage_kinds, sections, group_of)
        x, y = np.vstack([x, x_s]) if len(x) else x_s, np.concatenate([y, y_s])
        if languages is not None:
            languages += [sections.languages[o] for o in origins_s]
    confidence = fit_confidence(x, y, false_positive_rate)
    confidence.foreign_shift = foreign_shift(confidence, x, pairs)
    if languages is not None and false_positive_rate is not None:
        confidence.language_shift = language_shifts(confidence, x, y, languages, false_positive_rate)
    report = {"translated_searches": len(pairs), "held_out_vector_top1": round(top1 / len(query_articles), 4),
              "section_searches": len(sections.articles) if sections is not None else 0,
              **operating_point(confidence, x, y)}
    return confidence, report


def _category_accuracy(embeddings: np.ndarray, labels: list[str], training: list[int], held_rows: list[int]) -> float:
    """Accuracy of a classifier trained without the held-out question rows, on those rows."""
    held = set(held_rows)
    keep = [r for r in training if r not in held]
    held_classifier = CategoryClassifier.train(embeddings[keep], [labels[r] for r in keep])
    held_vectors = embeddings[held_rows]
    probs = held_classifier.proba(held_vectors)
    predicted = [held_classifier.classes[i] for i in probs.argmax(axis=1)]
    return round(float(np.mean([p == labels[r] for p, r in zip(predicted, held_rows)])), 4)


def fit_confidence(x: np.ndarray, y: np.ndarray, false_positive_rate: float | None = None) -> ConfidenceModel:
    """A logistic curve over the cases' features. With `false_positive_rate`, its intercept is shifted so that
    confidence 0.5 (the default threshold) is where that share of the uncovered cases (label 0) would be
    confident: the threshold follows the false positives a help center accepts, not the balance of the cases."""
    model = ConfidenceModel.train(CONFIDENCE_FEATURES, x, y)
    negatives = x[y == 0]
    if false_positive_rate is None or not len(negatives) or not (y == 1).any():
        return model
    z = negatives @ model.coef + model.intercept
    cut = float(np.quantile(z, 1.0 - false_positive_rate))
    return ConfidenceModel(model.features, model.coef, model.intercept - cut)


def foreign_shift(model: ConfidenceModel, x: np.ndarray, pairs: list[tuple[int, int]]) -> float:
    """How much lower the curve's logit is when a search is answered by a translation instead of its own language's
    version (median over `pairs` of rows of `x`: same-language case, other-language case); never negative."""
    if not pairs:
        return 0.0
    z = x @ model.coef
    return round(max(0.0, float(np.median([z[a] - z[b] for a, b in pairs]))), 4)


def language_shifts(model: ConfidenceModel, x: np.ndarray, y: np.ndarray, languages: Sequence[str | None],
                    false_positive_rate: float) -> dict[str, float]:
    """Per language of the searches (rows of `x`; '' for text whose letters tell none), the shift of the curve's
    logit that brings that language's own uncovered searches (label 0) down to `false_positive_rate`, for languages
    with at least MIN_LANGUAGE_SEARCHES of them: between two texts of one language some languages' cosines run
    higher than others', so one shared operating point is too lax for them. The rate is a ceiling for every
    language: none is made laxer than the shared point. Rounded; only the languages that need one."""
    z = x @ model.coef + model.intercept
    keys = np.array([language or "" for language in languages])
    shifts = {}
    for language in sorted(set(keys.tolist())):
        negatives = z[(keys == language) & (y == 0)]
        if len(negatives) >= MIN_LANGUAGE_SEARCHES and len(negatives) < (y == 0).sum():
            shift = round(-float(np.quantile(negatives, 1.0 - false_positive_rate)), 4)
            if shift < 0:
                shifts[language] = shift
    return shifts


def operating_point(model: ConfidenceModel, x: np.ndarray, y: np.ndarray) -> dict:
    """How the calibration searches fare at confidence 0.5: covered ones confident, uncovered ones confident."""
    if not len(y):
        return {}
    confident = model.predict(x) >= 0.5
    return {"covered_confident": round(float(confident[y == 1].mean()), 4) if (y == 1).any() else None,
            "uncovered_confident": round(float(confident[y == 0].mean()), 4) if (y == 0).any() else None}


def _article_blocks(passage_articles: list[str]) -> tuple[np.ndarray, list[str]]:
    """Start row of each article's contiguous block of passages, and the article ids in block order."""
    starts, ids = [], []
    for row, article in enumerate(passage_articles):
        if not ids or ids[-1] != article:
            starts.append(row)
            ids.append(article)
    if len(set(ids)) != len(ids):
        raise ValueError("passages of an article must be contiguous")
    return np.array(starts), ids


def training_rows(kinds: list[str], rng: random.Random) -> list[int]:
    """Rows to train the classifier on, at most MAX_TRAINING: customer phrasings matter most."""
    first = [r for r, k in enumerate(kinds) if k != "section"]
    rest = [r for r, k in enumerate(kinds) if k == "section"]
    if len(first) >= MAX_TRAINING:
        return sorted(rng.sample(first, MAX_TRAINING))
    return sorted(first + rng.sample(rest, min(len(rest), MAX_TRAINING - len(first))))


def searched_cases(embeddings: np.ndarray, passage_articles: list[str], passage_kinds: list[str],
                   queries: np.ndarray, query_articles: list[str], hidden: list[int],
                   group_of: Mapping[str, str] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, int, list[tuple[int, int]], list[int]]:
    """Confidence features of each query searched with vectors only: covered (its article in the index, without
    the passage `hidden` it comes from), label 1; for an article with translations (`group_of` maps an article
    to the id its language versions share) also answered only in another language (without its own version),
    label 1, as a customer writing in a language the article has no version in; and uncovered (without the
    article and its translations), label 0. Also how many covered searches ranked a version of their own article
    first, the pairs of rows (covered, answered in another language) of the same search, and the query each row
    comes from."""
    index = _SearchedIndex.of(embeddings, passage_articles, passage_kinds, group_of)
    starts, ends, position, groups, sums, sum_norms = (index.starts, index.ends, index.position, index.groups,
                                                       index.sums, index.sum_norms)
    versions = {g: np.flatnonzero(groups == g) for g in set(groups.tolist())}
    x, y, top1, pairs, origins = [], [], 0, [], []
    for n, (query_article, row) in enumerate(zip(query_articles, hidden)):
        if n % 256 == 0:  # one matrix product per block of queries
            block = embeddings @ queries[n:n + 256].T
        query = queries[n].astype(np.float64)
        sims = block[:, n % 256].astype(np.float64)
        own = position[query_article]
        own_sum = sums[own]
        if row >= 0:
            sims[row] = -np.inf  # the text's own passage is not in the index for either case
            if passage_kinds[row] != "section":
                own_sum = own_sum - embeddings[row]
        own_versions = versions[groups[own]]
        centroid_cos = (sums @ query) / sum_norms
        centroid_cos[own] = float(own_sum @ query) / (float(np.linalg.norm(own_sum)) or 1.0)
        per_article = np.maximum.reduceat(sims, starts)
        top1 += int(groups[int(np.argmax(per_article))] == groups[own])
        # covered; answered only in another language (when the article has translations); uncovered
        cases = [((), 1)] + ([((own,), 1)] if len(own_versions) > 1 else []) + [(own_versions, 0)]
        if len(own_versions) > 1:
            pairs.append((len(x), len(x) + 1))
        for removed, label in cases:
            case_sims, case_centroids = sims, centroid_cos
            if len(removed):
                case_sims, case_centroids = sims.copy(), centroid_cos.copy()
                for version in removed:
                    case_sims[starts[version]:ends[version]] = -np.inf
                case_centroids[list(removed)] = -np.inf
            x.append(_case_features(case_sims, case_centroids))
            y.append(label)
            origins.append(n)
    return np.array(x), np.array(y), top1, pairs, origins


@dataclass
class _SearchedIndex:
    """What a calibration search needs of the index: each article's block of passage rows (`starts`, `ends`,
    `position` of an article id), the id its language versions share (`groups`), and its question centroid as
    the service has it (the mean of its question and summary passages), kept as a sum (`sums`, with `sum_norms`)
    so that a hidden passage can be taken out of its own article's."""

    starts: np.ndarray
    ends: np.ndarray
    position: dict[str, int]
    groups: np.ndarray
    sums: np.ndarray
    sum_norms: np.ndarray

    @classmethod
    def of(cls, embeddings: np.ndarray, passage_articles: list[str], passage_kinds: list[str],
           group_of: Mapping[str, str] | None) -> "_SearchedIndex":
        starts, article_ids = _article_blocks(passage_articles)
        groups = np.array([(group_of or {}).get(a, a) for a in article_ids])
        sums = question_sums(article_ids, passage_articles, passage_kinds, embeddings)
        sum_norms = np.linalg.norm(sums, axis=1)
        sum_norms[sum_norms == 0] = 1.0
        return cls(starts, np.append(starts[1:], len(passage_articles)), {a: i for i, a in enumerate(article_ids)},
                   groups, sums, sum_norms)


def _case_features(case_sims: np.ndarray, case_centroids: np.ndarray) -> np.ndarray:
    """The confidence features of one calibration case: its KNN best passage cosines (a hidden or removed
    passage is -inf) and its best centroid cosine."""
    nearest = np.partition(case_sims, -KNN)[-KNN:] if len(case_sims) > KNN else case_sims
    return confidence_features(nearest[np.isfinite(nearest)], float(np.max(case_centroids)))


def section_cases(embeddings: np.ndarray, passage_articles: list[str], passage_kinds: list[str],
                  sections: SectionSearches, group_of: Mapping[str, str] | None = None
                  ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """Confidence features of each sub-section heading searched with vectors only: covered (its article in the
    index, its section's passages replaced by the section's text alone), label 1; and uncovered (without the
    article and its translations), label 0. Also the search each row comes from."""
    index = _SearchedIndex.of(embeddings, passage_articles, passage_kinds, group_of)
    x, y, origins = [], [], []
    for n, (article, rows) in enumerate(zip(sections.articles, sections.hidden)):
        query = sections.queries[n].astype(np.float64)
        sims = (embeddings @ sections.queries[n]).astype(np.float64)
        sims[list(rows)] = -np.inf
        centroid_cos = (index.sums @ query) / index.sum_norms  # (a section is no part of its article's centroid)
        covered = np.append(sims, float(sections.stand_ins[n].astype(np.float64) @ query))
        uncovered = sims.copy()
        versions = np.flatnonzero(index.groups == index.groups[index.position[article]])
        for version in versions:
            uncovered[index.starts[version]:index.ends[version]] = -np.inf
        outside = centroid_cos.copy()
        outside[versions] = -np.inf
        for case_sims, centroids, label in ((covered, centroid_cos, 1), (uncovered, outside, 0)):
            x.append(_case_features(case_sims, centroids))
            y.append(label)
            origins.append(n)
    return np.array(x), np.array(y), origins
