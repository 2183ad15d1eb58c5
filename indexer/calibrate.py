"""Training the category classifier and calibrating answer confidence from the help center's own questions.

Calibration holds out one customer question per article (seeded) and asks, with vectors only:
- a covered case: the question against the index without that question's own passage — its article is still
  there, as for a customer whose problem the help center answers;
- an uncovered case: the same question against the index without its whole article — what a question no
  article answers looks like, however close the neighbouring articles are.
A logistic curve over the score features of those cases (kb.index.classifier.confidence_features: how close the
nearest passages and question centroids are) gives confidence = P(the help center answers the query). Both
cases are equally many, so 0.5 is the point where covered and uncovered are equally likely: the default
threshold. The held-out top-1 of the vector ranking is reported beside it.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from indexer.passages import question_sums
from kb.index.classifier import CONFIDENCE_FEATURES, KNN, CategoryClassifier, ConfidenceModel, confidence_features

MAX_HELD_OUT = 2000
MAX_TRAINING = 6000  # passages the classifier is trained on: all questions and summaries first, then sections


@dataclass
class Calibration:
    classifier: CategoryClassifier
    confidence: ConfidenceModel
    report: dict


def train_models(embeddings: np.ndarray, passage_articles: list[str], passage_kinds: list[str],
                 article_category: dict[str, str], seed: int = 13) -> Calibration:
    """Classifier over all passages, and a confidence model from held-out questions (see module doc)."""
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

    training = _training_rows(passage_kinds, rng)
    classifier = CategoryClassifier.train(embeddings[training], [labels[r] for r in training])
    report["trained_on_passages"] = len(training)
    if not held_rows or len(set(passage_articles)) < 2:
        confidence = ConfidenceModel(CONFIDENCE_FEATURES, np.array([10.0, 0.0, 0.0]), -5.0)
        report["confidence"] = "default curve on the answer's cosine (too few questions to calibrate)"
        return Calibration(classifier, confidence, report)

    held = set(held_rows)
    keep = [r for r in training if r not in held]
    held_classifier = CategoryClassifier.train(embeddings[keep], [labels[r] for r in keep])
    held_vectors = embeddings[held_rows]
    probs = held_classifier.proba(held_vectors)
    predicted = [held_classifier.classes[i] for i in probs.argmax(axis=1)]
    report["held_out_category_accuracy"] = round(float(np.mean(
        [p == labels[r] for p, r in zip(predicted, held_rows)])), 4)

    starts, article_ids = _article_blocks(passage_articles)
    position = {a: i for i, a in enumerate(article_ids)}
    # Question centroids as the service has them (means of question and summary passages), kept as sums so
    # that the held-out question can be taken out of its own article's.
    sums = question_sums(article_ids, passage_articles, passage_kinds, embeddings)
    sum_norms = np.linalg.norm(sums, axis=1)
    sum_norms[sum_norms == 0] = 1.0
    x, y, top1 = [], [], 0
    for n, row in enumerate(held_rows):
        if n % 256 == 0:  # one matrix product per block of held-out questions
            block = embeddings @ embeddings[held_rows[n:n + 256]].T
        query = embeddings[row].astype(np.float64)
        sims = block[:, n % 256].copy()
        sims[row] = -np.inf  # the question itself is not in the index for either case
        own = position[passage_articles[row]]
        own_rows = slice(starts[own], starts[own + 1] if own + 1 < len(starts) else len(sims))
        centroid_cos = (sums @ query) / sum_norms
        own_sum = sums[own] - query
        centroid_cos[own] = float(own_sum @ query) / (float(np.linalg.norm(own_sum)) or 1.0)
        per_article = np.maximum.reduceat(sims, starts)
        top1 += int(np.argmax(per_article) == own)
        for covered in (True, False):
            case_sims, case_centroids = sims, centroid_cos
            if not covered:
                case_sims, case_centroids = sims.copy(), centroid_cos.copy()
                case_sims[own_rows] = -np.inf
                case_centroids[own] = -np.inf
            nearest = np.partition(case_sims, -KNN)[-KNN:] if len(case_sims) > KNN else case_sims
            x.append(confidence_features(nearest[np.isfinite(nearest)], float(np.max(case_centroids))))
            y.append(int(covered))
    confidence = ConfidenceModel.train(CONFIDENCE_FEATURES, np.array(x), np.array(y))
    report["held_out_vector_top1"] = round(top1 / len(held_rows), 4)
    return Calibration(classifier, confidence, report)


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


def _training_rows(kinds: list[str], rng: random.Random) -> list[int]:
    """Rows to train the classifier on, at most MAX_TRAINING: customer phrasings matter most."""
    first = [r for r, k in enumerate(kinds) if k != "section"]
    rest = [r for r, k in enumerate(kinds) if k == "section"]
    if len(first) >= MAX_TRAINING:
        return sorted(rng.sample(first, MAX_TRAINING))
    return sorted(first + rng.sample(rest, min(len(rest), MAX_TRAINING - len(first))))
