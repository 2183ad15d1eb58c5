"""Stage 2 of a search: candidates from the keyword index and from the passage vectors, each kept to what the
searching audience may read, with the passage that answers (its anchor) and the scores confidence is judged on."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, NamedTuple, Sequence

import numpy as np

from kb.index.keyword import KeywordIndex
from kb.index.records import IndexedArticle, IndexedPassage
from kb.fusion import best_per_key

Ranking = list[tuple[str, float]]  # (article id, score), best first


class PassagePointer(NamedTuple):
    """What a search needs of a vector row: its article, and the anchor a hit on it opens."""

    article: str
    anchor: str  # '' for the article's top


class PassagePointers(Sequence[PassagePointer]):
    """Every passage's pointer, by row, held as two small integer arrays into the distinct article ids and
    anchors (at 147k passages, 1 MiB where the records took 90): a question or the summary points at the
    article's top."""

    def __init__(self, passages: Iterable[IndexedPassage]) -> None:
        self._articles: list[str] = []
        self._anchors: list[str] = [""]
        number: dict[str, dict[str, int]] = {"article": {}, "anchor": {"": 0}}
        articles, anchors = [], []
        for p in passages:
            anchor = p.anchor if p.kind == "section" else ""
            articles.append(_number(number["article"], self._articles, p.article))
            anchors.append(_number(number["anchor"], self._anchors, anchor))
        self._article = np.array(articles, dtype=np.int32)
        self._anchor = np.array(anchors, dtype=np.int32)

    def __len__(self) -> int:
        return len(self._article)

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[r] for r in range(*row.indices(len(self)))]
        return PassagePointer(self._articles[self._article[row]], self._anchors[self._anchor[row]])


def _number(numbers: dict[str, int], values: list[str], value: str) -> int:
    found = numbers.get(value)
    if found is None:
        found = numbers[value] = len(values)
        values.append(value)
    return found


@dataclass(frozen=True)
class Candidates:
    keyword: Ranking  # each article's best keyword score
    vector: Ranking  # each article's best passage cosine
    vector_ranked: Ranking  # vector, with each article's cosine to its question centroid added in
    anchors: dict[str, str]  # the anchor of each article's best passage ('' for its top)
    passage_scores: list[float]  # the cosines of every visible passage found, best first
    centroid_best: float  # the best centroid cosine among the vector candidates


def keyword_candidates(index: KeywordIndex, text: str, n: int, allowed: tuple[str, ...]) -> Ranking:
    """The `n` best keyword matches of `text`, one score per article."""
    return best_per_key((h.article_id, h.score) for h in index.search(text, n, allowed))


def passage_candidates(scores: Sequence[float], rows: Sequence[int], passages: Sequence[PassagePointer],
                       articles: Mapping[str, IndexedArticle], n: int,
                       allowed: tuple[str, ...]) -> tuple[Ranking, dict[str, str], list[float]]:
    """From the nearest passages (`scores`, `rows` as a vector index gives them, best first; row -1 for none):
    the `n` best articles by their best passage, each one's anchor, and every visible passage's score."""
    scored, anchors, visible = [], {}, []
    for score, row in zip(scores, rows):
        if row < 0:
            continue
        passage = passages[row]
        article_id = passage.article
        if articles[article_id].audience not in allowed:
            continue
        scored.append((article_id, float(score)))
        visible.append(float(score))
        anchors.setdefault(article_id, passage.anchor)  # the best passage decides
    return best_per_key(scored)[:n], anchors, visible


def with_centroids(vector: Ranking, near: np.ndarray, weight: float) -> tuple[Ranking, float]:
    """Vector candidates ranked by best passage + `weight` × cosine to the article's question centroid (`near`,
    one per candidate, in order); and the best of those centroid cosines."""
    if not vector:
        return [], 0.0
    return best_per_key((a, s + weight * float(c)) for (a, s), c in zip(vector, near)), float(near.max())
