"""Training the category classifier and calibrating answer confidence from the help center's own questions.

Calibration holds out one customer question per article (seeded) and asks, with vectors only:
- a positive case: the question against the index without that question's own passage — is the best article
  the question's article, and with what scores?
- a negative case: the same question against the index without its whole article — the best remaining answer
  is wrong by construction, which is what an uncovered question looks like.
A logistic curve over the score features of those cases gives confidence = P(the answer is right).
"""
from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from kb.classifier import CONFIDENCE_FEATURES, CategoryClassifier, ConfidenceModel, confidence_features

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
        confidence = ConfidenceModel(CONFIDENCE_FEATURES, np.array([10.0, 0.0, 0.0, 0.0]), -5.0)
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
    class_index = {c: i for i, c in enumerate(held_classifier.classes)}
    x, y, top1 = [], [], 0
    for n, row in enumerate(held_rows):
        if n % 256 == 0:  # one matrix product per block of held-out questions
            block = embeddings @ embeddings[held_rows[n:n + 256]].T
        sims = block[:, n % 256].copy()
        sims[row] = -np.inf  # the question itself is not in the index for this case
        per_article = np.maximum.reduceat(sims, starts)
        own = position[passage_articles[row]]
        p = probs[n]
        for case in ("positive", "negative"):
            scores = per_article.copy()
            if case == "negative":
                scores[own] = -np.inf
            order = np.argsort(-scores)[:2]
            answer, other = order[0], order[1] if len(order) > 1 else order[0]
            cat_p = p[class_index[article_category[article_ids[answer]]]] if article_category[
                article_ids[answer]] in class_index else 0.0
            x.append(confidence_features(float(scores[answer]), float(scores[other]), float(cat_p), float(p.max())))
            right = case == "positive" and answer == own
            y.append(int(right))
            top1 += right
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
