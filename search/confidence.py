"""Stage 4 of a search: the query's category and how sure the service is of its first answer."""
from __future__ import annotations

from typing import Sequence

import numpy as np

from kb.embedding.encoders import LATIN_ONLY_MODELS
from kb.index.classifier import ConfidenceModel, confidence_features
from kb.language import latin_only


def predicted_category(classes: Sequence[str], probs: np.ndarray) -> tuple[str | None, float]:
    """The most probable category and its probability (None, 0.0 without categories)."""
    if not len(probs):
        return None, 0.0
    best = int(probs.argmax())
    return classes[best], float(probs[best])


def answer_confidence(model: ConfidenceModel, answered: bool, passage_scores: Sequence[float],
                      centroid_best: float, foreign: bool = False, language: str | None = None) -> float:
    """P(the help center answers the query) from the passage cosines and the best centroid cosine; 0 with no
    answer. `foreign`: the query is in a language no article is written in (answered by a translation at best);
    `language`: the query's language (the curve's operating point for it)."""
    if not answered or not passage_scores:
        return 0.0
    return float(model.predict(confidence_features(np.array(passage_scores), centroid_best), foreign, language)[0])


def model_reads(model: str, text: str) -> bool:
    """Whether `model` reads every letter of `text`: an English-only model embeds Cyrillic as noise, whose cosines
    say nothing about an answer (such a query is never confident; its keyword matches still rank)."""
    return model not in LATIN_ONLY_MODELS or latin_only(text)
