"""Ranking as pure functions over rankings: merge section hits per article, then fuse rankings."""
from __future__ import annotations

from typing import Hashable, Iterable, Mapping, Sequence

RRF_K = 60


def best_per_key(scored: Iterable[tuple[Hashable, float]]) -> list[tuple[Hashable, float]]:
    """Keep each key's best score (e.g. an article's best section), sorted best first, ties by first seen."""
    best: dict[Hashable, float] = {}
    for key, score in scored:
        if key not in best or score > best[key]:
            best[key] = score
    order = {key: i for i, key in enumerate(best)}
    return sorted(best.items(), key=lambda kv: (-kv[1], order[kv[0]]))


def reciprocal_rank_fusion(rankings: Sequence[Sequence[Hashable]], k: int = RRF_K,
                           weights: Sequence[float] | None = None) -> list[tuple[Hashable, float]]:
    """Σ weight / (k + rank) over the rankings a key appears in (rank starts at 1), best first."""
    weights = weights or [1.0] * len(rankings)
    fused: dict[Hashable, float] = {}
    first_seen: dict[Hashable, int] = {}
    for ranking, weight in zip(rankings, weights):
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + weight / (k + rank)
            first_seen.setdefault(key, len(first_seen))
    return sorted(fused.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))


def reweight_by_category(fused: Sequence[tuple[Hashable, float]], category_of: Mapping, category_p: Mapping,
                         weight: float) -> list[tuple[Hashable, float]]:
    """score × (1 + weight × P(article's category | query)), best first; stable for equal scores."""
    scored = [(key, score * (1.0 + weight * category_p.get(category_of.get(key), 0.0))) for key, score in fused]
    order = {key: i for i, (key, _) in enumerate(fused)}
    return sorted(scored, key=lambda kv: (-kv[1], order[kv[0]]))


def score_fusion(vector: Sequence[tuple[Hashable, float]], keyword: Sequence[tuple[Hashable, float]],
                 keyword_weight: float) -> list[tuple[Hashable, float]]:
    """vector score + keyword_weight × keyword score / the query's best keyword score, best first.

    Vector scores are cosines, comparable across queries; BM25 scores are not, so they are scaled to [0, 1]
    per query. Ties keep the order in which keys were first seen (vector ranking first).
    """
    top = max((score for _, score in keyword), default=0.0)
    scaled = {key: score / top for key, score in keyword} if top > 0 else {}
    fused: dict[Hashable, float] = {}
    for key, score in vector:
        fused[key] = score
    for key in scaled:
        fused[key] = fused.get(key, 0.0) + keyword_weight * scaled[key]
    order = {key: i for i, key in enumerate(fused)}
    return sorted(fused.items(), key=lambda kv: (-kv[1], order[kv[0]]))
