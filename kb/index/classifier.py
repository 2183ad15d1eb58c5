"""Linear models stored with the index as plain arrays: the category classifier and the confidence calibrator.

Training uses scikit-learn (imported only when training); prediction is numpy, so loading an index never
unpickles anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from kb.errors import IndexFormatError


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass
class CategoryClassifier:
    """P(category | text embedding): multinomial logistic regression over the embedding."""

    classes: list[str]
    coef: np.ndarray  # (n_classes, dim)
    intercept: np.ndarray  # (n_classes,)

    @classmethod
    def train(cls, vectors: np.ndarray, labels: Sequence[str], c: float = 4.0, seed: int = 0) -> "CategoryClassifier":
        classes = sorted(set(labels))
        if len(classes) <= 1:  # one category (or none: no article): nothing to tell apart
            return cls(classes, np.zeros((len(classes), vectors.shape[1]), np.float32),
                       np.zeros(len(classes), np.float32))
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=c, max_iter=500, tol=1e-3, class_weight="balanced", random_state=seed)
        model.fit(vectors, list(labels))
        coef, intercept = model.coef_, model.intercept_
        if len(classes) == 2:  # sklearn stores one row for two classes
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls([str(x) for x in model.classes_], coef.astype(np.float32), intercept.astype(np.float32))

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        """(n, n_classes) probabilities, columns in `classes` order."""
        vectors = np.atleast_2d(vectors).astype(np.float32)
        if not self.classes:
            return np.zeros((len(vectors), 0), np.float32)
        return _softmax(vectors @ self.coef.T + self.intercept)

    def save(self, path: Path) -> None:
        np.savez(path, classes=np.array(self.classes), coef=self.coef, intercept=self.intercept)

    @classmethod
    def load(cls, path: Path) -> "CategoryClassifier":
        try:
            with np.load(path, allow_pickle=False) as data:
                return cls([str(c) for c in data["classes"]], data["coef"], data["intercept"])
        except (OSError, KeyError, ValueError) as exc:
            raise IndexFormatError(f"{path}: cannot read the category classifier ({exc})") from None


@dataclass
class ConfidenceModel:
    """P(the help center answers the query | score features): a logistic curve fitted at build time."""

    features: list[str]
    coef: np.ndarray  # (n_features,)
    intercept: float
    # added to the logit of a query in a language no article is written in: what answering from a translation
    # costs in the features, measured at build time on the help center's translated articles (0 without any)
    foreign_shift: float = 0.0
    # added to the logit of a query in one of the articles' languages: cosines run higher between texts of one
    # language for some languages than for others, so each language with enough calibration searches gets its own
    # operating point (the same false-positive rate among its own uncovered searches); absent: the shared one
    language_shift: dict[str, float] = field(default_factory=dict)

    @classmethod
    def train(cls, names: list[str], x: np.ndarray, y: np.ndarray) -> "ConfidenceModel":
        from sklearn.linear_model import LogisticRegression

        if len(set(y.tolist())) < 2:  # degenerate: every example one way; fall back to a steep curve on the 1st feature
            return cls(names, np.eye(len(names))[0] * 10.0, -5.0)
        model = LogisticRegression(C=10.0, max_iter=1000, class_weight="balanced")
        model.fit(x, y)
        return cls(names, model.coef_[0].astype(np.float64), float(model.intercept_[0]))

    def predict(self, x: np.ndarray, foreign: bool = False, language: str | None = None) -> np.ndarray:
        """P(answered) for each row of features; `foreign`: the query is in a language no article is written in;
        `language`: the query's language, when known (its own operating point, if it has one)."""
        shift = self.foreign_shift if foreign else self.language_shift.get(language or "", 0.0)
        z = np.atleast_2d(x) @ self.coef + self.intercept + shift
        return 1.0 / (1.0 + np.exp(-z))

    def to_json(self) -> dict:
        return {"features": self.features, "coef": [float(c) for c in self.coef], "intercept": self.intercept,
                "foreign_shift": self.foreign_shift, "language_shift": dict(self.language_shift)}

    @classmethod
    def from_json(cls, data: dict) -> "ConfidenceModel":
        try:
            return cls(list(data["features"]), np.array(data["coef"], dtype=np.float64), float(data["intercept"]),
                       float(data.get("foreign_shift", 0.0)),
                       {str(k): float(v) for k, v in (data.get("language_shift") or {}).items()})
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexFormatError(f"bad confidence model in the manifest ({exc})") from None


CONFIDENCE_FEATURES = ["top_cosine", "knn_cosine", "centroid_cosine"]
KNN = 5  # passages whose mean cosine measures how crowded the query's neighbourhood is


def confidence_features(passage_cosines: np.ndarray, centroid_cosine: float) -> np.ndarray:
    """The features confidence is computed from, the same at build (calibration) and at query time:
    the best passage cosine, the mean of the best KNN, and the best cosine to an article's question centroid."""
    best = np.sort(np.asarray(passage_cosines, dtype=np.float64))[::-1][:KNN]
    if best.size == 0:
        return np.array([0.0, 0.0, float(centroid_cosine)])
    return np.array([best[0], best.mean(), float(centroid_cosine)])
