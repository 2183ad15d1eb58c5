"""The category prior as a pure function: P(category | query) re-weights the fused ranking, but never lifts an
article above one whose passage match is clearly stronger."""
from __future__ import annotations

import heapq
from typing import Hashable, Mapping, Sequence

import numpy as np

from kb.fusion import reweight_by_category

# How many standard deviations of a query's candidate cosines make one passage match clearly stronger than another.
CLEAR_SPREADS = 1.0


def clear_margin(cosines: Sequence[float], spreads: float = CLEAR_SPREADS) -> float:
    """The cosine margin that makes a passage match clearly stronger than another for this query: `spreads`
    population standard deviations of its candidates' best-passage cosines (0 with fewer than two)."""
    return spreads * float(np.std(cosines)) if len(cosines) > 1 else 0.0


def apply_category_prior(fused: Sequence[tuple[Hashable, float]], vector: Sequence[tuple[Hashable, float]],
                         category_of: Mapping, category_p: Mapping, weight: float,
                         spreads: float = CLEAR_SPREADS) -> list[tuple[Hashable, float]]:
    """`fused` re-weighted by the query's category probabilities (kb.fusion.reweight_by_category), except that
    the prior never moves an article below one it led in `fused` whose passage match it clearly beats.

    `vector` holds each candidate article's best passage cosine. A's match is clearly stronger than B's when
    cos(A) − cos(B) exceeds `spreads` standard deviations of the cosines in `vector`: the margin is measured
    against how far apart this query's candidates lie, not as a fixed cosine, so it means the same for an
    embedder whose cosines crowd into a narrow band (E5: 0.75–0.9) as for one that spreads them (MiniLM:
    0.1–0.7), and for a query whose candidates are all close as for one with a clear winner. With the default
    of one deviation: A must beat B by as much as a typical candidate differs from the mean candidate. Between
    such pairs the prior's order never holds; between articles whose matches are close, the prior decides. An
    article that is not among the vector candidates counts as scoring the lowest candidate's cosine (its own is
    at most that).

    The result is the re-weighted ranking with those pairs put back in order (of the articles free to go next,
    always the one the prior ranks best), each score raised, where needed, to the score of the article after
    it, so that scores never increase down the list.
    """
    reweighted = reweight_by_category(fused, category_of, category_p, weight)
    if len(fused) < 2 or not weight:  # (without a weight the prior reverses nothing: no pair to put back)
        return reweighted
    cosine = dict(vector)
    margin = clear_margin(list(cosine.values()), spreads)
    floor = min(cosine.values(), default=0.0)
    keys = [key for key, _ in fused]  # the order the prior may only reverse between close matches
    place = {key: i for i, (key, _) in enumerate(reweighted)}
    cos = np.array([cosine.get(key, floor) for key in keys])
    # leads[a, b]: a came before b in `fused` and its match is clearly stronger, so b may not pass it.
    leads = np.triu(cos[:, None] - cos[None, :] > margin, k=1)
    where = np.array([place[key] for key in keys])
    if not (leads & (where[:, None] > where[None, :])).any():
        return reweighted  # the prior reversed no such pair
    # Kahn's topological order over `leads`, taking of the articles free to go next the one the prior ranks best.
    waiting = leads.sum(axis=0).tolist()
    followers: list[list[int]] = [[] for _ in keys]
    for a, b in zip(*(side.tolist() for side in np.nonzero(leads))):
        followers[a].append(b)
    at = where.tolist()
    free = [(at[i], i) for i, count in enumerate(waiting) if count == 0]
    heapq.heapify(free)
    score = dict(reweighted)
    out: list[tuple[Hashable, float]] = []
    while free:
        _, i = heapq.heappop(free)
        out.append((keys[i], score[keys[i]]))
        for j in followers[i]:
            waiting[j] -= 1
            if waiting[j] == 0:
                heapq.heappush(free, (at[j], j))
    for i in range(len(out) - 2, -1, -1):
        if out[i][1] < out[i + 1][1]:
            out[i] = (out[i][0], out[i + 1][1])
    return out
