"""The hybrid's fusion weights fitted on the build's own held-out searches.

Keyword matches and the category prior help one help center and hurt another (where every title shares the same
product words, a keyword match says little). So after calibration a build searches its held-out texts
(indexer/held_out.py: titles, descriptions and questions, embedded as queries, and in articles without questions
the sub-section headings that name a topic) the way the service ranks them —
vector candidates with the question-centroid term, keyword candidates, score fusion (kb.fusion.score_fusion), the
category prior (kb.prior.apply_category_prior) — under a small grid of (keyword weight, category weight), and keeps
the pair with the best mean reciprocal rank of the text's own article. The configured pair wins ties (within
TIE_MRR), and the plain vector ranking (both weights 0) is always on the grid: on these searches the fitted hybrid
is never below it by more than that.

The category prior must earn its place more clearly. Its classifier learns from the same kind of text the held-out
searches are (titles, descriptions, questions), so on them it is surer and more often right than on what customers
type: on the sample help center's development phrasings the prior fitted so (0.1) changed the first answer of 5
of 227 searches, wrongly in 4 and rightly in none. So the fitted pair keeps its category weight only when, at its
keyword weight, the prior improves significantly more held-out searches than it worsens (a one-sided sign test
over the searches whose rank it changes, p < PRIOR_P); otherwise the category weight is 0.

What a held-out search must not see of itself:
- vectors: its own passage (as in calibration), and that passage's share of its article's question centroid. An
  article without questions has its summary (title and description) for centroid; with that passage hidden, the
  mean of its sections stands in for it (an empty centroid would rank the article below every other one, which
  measures the hiding, not the ranking);
- the category: P(category | text) comes from a classifier trained without the held-out passages of its half of
  the searches (two folds);
- keywords: the keyword index holds one document per article, so its own article is scored as if the field the
  text sits in held only the rest of that field (HeldOut.rests): a title's search without the article's title, a
  question's with the article's other questions only, a description's with the sections only (the body field
  holds both). Its query terms that the rest also holds keep their stored score, computed with the text still in
  the field: a close approximation (BM25 saturates in a term's count), not an exact rescoring.
A heading's search is made as calibration makes it: without its section's passages, the section's text (embedded
as a passage) standing in for them, and with its article's heading field holding the other headings only. On a
help center without questions nearly every title and description finds its article first whatever the weights
(held-out MRR 0.91-0.99 on bench/long_articles.py's center for every pair of the grid); the headings are what
tells the weights apart there, as customers' questions about a sub-topic would.
Only score fusion has weights to fit: with `fusion = "rrf"` nothing is fitted.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from indexer.calibrate import SectionSearches, training_rows
from indexer.held_out import HeldOut
from indexer.passages import question_sums
from kb.config import Settings
from kb.fusion import best_per_key, score_fusion
from kb.index.classifier import CategoryClassifier
from kb.index.keyword import KeywordIndex
from kb.prior import apply_category_prior

Ranking = list[tuple[str, float]]  # (article id, score), best first

KEYWORD_WEIGHTS = (0.0, 0.1, 0.2, 0.35, 0.5)
# The keyword field a held-out text of each kind is indexed in (indexer/passages.py keyword_docs_for).
FIELD_OF_KIND = {"title": "title", "question": "questions", "description": "body"}  # (a heading's: "heading")
FOLDS = 2
# The configured weights stay unless other weights beat their held-out MRR by more than this (one search of a few
# hundred moving from first to second place is about 0.0013).
TIE_MRR = 0.002
# The sign test's level for keeping the category prior: with its wins and losses over the held-out searches, the
# chance of at least that many wins if it helped and hurt alike.
PRIOR_P = 0.05
# Goes into the models' training key: a change of how the fit is made retrains them.
FUSION_FIT = (f"held-out MRR; the configured weights unless beaten by more than {TIE_MRR}, else the best, exact ties "
              f"to the lower weights; keyword weights {KEYWORD_WEIGHTS} x category weight 0 or configured; "
              f"own field text hidden; sections for an emptied centroid; category weight kept at sign test "
              f"p < {PRIOR_P}; sub-section headings searched too, their section's text standing in")


@dataclass(frozen=True)
class FusionSetup:
    """The settings the fitted ranking depends on: the configured weights and the candidates' shape."""

    keyword_weight: float
    category_weight: float
    candidates: int
    centroid_weight: float

    @classmethod
    def of(cls, settings: Settings) -> "FusionSetup | None":
        """None when the fusion has no weights to fit (reciprocal-rank fusion)."""
        if settings.fusion != "score":
            return None
        return cls(settings.keyword_weight, settings.category_weight, settings.candidates, settings.centroid_weight)


@dataclass(frozen=True)
class HeldOutSearch:
    """One held-out text's candidates, as the service would have them without the text itself."""

    answer: str  # the article the text comes from (the id its language versions share)
    vector: Ranking  # each candidate article's best passage cosine
    vector_ranked: Ranking  # with the question-centroid term added, best first
    keyword: Ranking  # keyword scores, best first
    category_p: Mapping[str, float]


def ranked(search: HeldOutSearch, keyword_weight: float, category_weight: float,
           category_of: Mapping[str, str]) -> Ranking:
    """The hybrid ranking the service makes of these candidates (search/rank.py `rank`, mode 'hybrid')."""
    fused = score_fusion(search.vector_ranked, search.keyword, keyword_weight)
    if not category_weight:  # the prior then changes nothing (and costs the most of the fit's time)
        return fused
    return apply_category_prior(fused, search.vector, category_of, search.category_p, category_weight)


def reciprocal_rank(ranking: Ranking, answer: str, group_of: Mapping[str, str]) -> float:
    """1 / the rank of the `answer` article, counting one place per article however many of its language
    versions rank (the service lists one of them); 0 when it is not ranked."""
    seen: set[str] = set()
    for key, _ in ranking:
        group = group_of.get(key, key)
        if group == answer:
            return 1.0 / (len(seen) + 1)
        seen.add(group)
    return 0.0


def weight_grid(keyword_weight: float, category_weight: float) -> list[tuple[float, float]]:
    """The (keyword weight, category weight) pairs tried, the configured pair first."""
    pairs = [(keyword_weight, category_weight)]
    for kw in sorted({*KEYWORD_WEIGHTS, keyword_weight}):
        for cw in sorted({0.0, category_weight}):
            if (kw, cw) not in pairs:
                pairs.append((kw, cw))
    return pairs


def fit_weights(searches: Sequence[HeldOutSearch], category_of: Mapping[str, str], group_of: Mapping[str, str],
                keyword_weight: float, category_weight: float) -> dict:
    """The pair of the grid with the best held-out mean reciprocal rank, with the configured pair's and the plain
    vector ranking's, for the manifest; empty without searches. The configured pair stays unless another beats it
    by more than TIE_MRR; of pairs that tie exactly, the one with the lower weights (the simpler ranking). The
    category weight then stays only if the prior wins significantly (module docstring)."""
    if not searches:
        return {}
    configured = (keyword_weight, category_weight)
    rr = {pair: np.array([reciprocal_rank(ranked(s, pair[0], pair[1], category_of), s.answer, group_of)
                          for s in searches])
          for pair in weight_grid(keyword_weight, category_weight)}
    mrr = {pair: float(ranks.mean()) for pair, ranks in rr.items()}
    best = max(mrr, key=lambda pair: (mrr[pair], -pair[0], -pair[1]))
    if mrr[configured] >= mrr[best] - TIE_MRR:
        best = configured
    prior = {}
    if best[1] > 0:
        wins = int((rr[best] > rr[(best[0], 0.0)]).sum())
        losses = int((rr[best] < rr[(best[0], 0.0)]).sum())
        p = sign_test(wins, losses)
        prior = {"prior_wins": wins, "prior_losses": losses, "prior_p": round(p, 4)}
        if p >= PRIOR_P:
            best = (best[0], 0.0)
    return {"keyword_weight": best[0], "category_weight": best[1], "searches": len(searches),
            "held_out_mrr": round(mrr[best], 4), "configured_mrr": round(mrr[(keyword_weight, category_weight)], 4),
            "vector_mrr": round(mrr[(0.0, 0.0)], 4), **prior,
            "grid": [[kw, cw, round(value, 4)] for (kw, cw), value in mrr.items()]}


def sign_test(wins: int, losses: int) -> float:
    """One-sided sign test: the chance of at least `wins` wins in `wins + losses` fair coin tosses (1.0 for none)."""
    n = wins + losses
    if n == 0:
        return 1.0
    if n > 1000:  # (the normal approximation, with continuity correction, where exact sums grow long)
        return 0.5 * math.erfc((wins - 0.5 - n / 2) / math.sqrt(n / 4) / math.sqrt(2))
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2 ** n


def fold_probabilities(embeddings: np.ndarray, passage_kinds: list[str], labels: list[str], queries: np.ndarray,
                       hidden: Sequence[Sequence[int]], seed: int = 13) -> list[dict[str, float]]:
    """P(category | text) of each held-out query from a classifier trained without the passages hidden from the
    searches of its fold (`hidden`: each query's rows; query n is in fold n % FOLDS)."""
    rng = random.Random(seed)
    out: list[dict[str, float]] = [{} for _ in hidden]
    for fold in range(FOLDS):
        members = list(range(fold, len(hidden), FOLDS))
        if not members:
            continue
        held = {row for n in members for row in hidden[n]}
        keep = [r for r in range(len(passage_kinds)) if r not in held]
        rows = [keep[i] for i in training_rows([passage_kinds[r] for r in keep], rng)]
        classifier = CategoryClassifier.train(embeddings[rows], [labels[r] for r in rows])
        probs = classifier.proba(queries[members])
        for n, p in zip(members, probs):
            out[n] = dict(zip(classifier.classes, p.tolist()))
    return out


@dataclass(frozen=True)
class _Searched:
    """One held-out search as the fit makes it: its text and article, the rows hidden from it, the keyword field
    hidden with the rest of it, and, for a heading, its section's text embedded as a passage standing in for the
    hidden rows."""

    text: str
    article: str
    hidden: tuple[int, ...]
    field: str
    rest: str
    stand_in: np.ndarray | None = None


def _searched(held: HeldOut, hidden: list[int], sections: SectionSearches | None) -> list[_Searched]:
    out = [_Searched(text, article, (row,) if row >= 0 else (), FIELD_OF_KIND[kind], rest)
           for text, article, row, kind, rest in zip(held.texts, held.articles, hidden, held.kinds, held.rests)]
    if sections is not None:
        out += [_Searched(text, article, tuple(rows), "heading", rest, stand_in) for text, article, rows, rest, stand_in
                in zip(sections.texts, sections.articles, sections.hidden, sections.rests, sections.stand_ins)]
    return out


def held_out_searches(keyword: KeywordIndex, allowed: tuple[str, ...], embeddings: np.ndarray,
                      passage_articles: list[str], passage_kinds: list[str], article_category: Mapping[str, str],
                      queries: np.ndarray, held: HeldOut, hidden: list[int], group_of: Mapping[str, str],
                      setup: FusionSetup, sections: SectionSearches | None = None) -> list[HeldOutSearch]:
    """The candidates of each held-out text (`queries`: their embeddings; `hidden`: the row of `embeddings` each
    text's own passage is, -1 for none) and of each sub-section heading (`sections`: searched without their
    section's passages, its text standing in for them, as calibration searches them), without what the module doc
    says a search must not see of itself."""
    searched = _searched(held, hidden, sections)
    if sections is not None:
        queries = np.vstack([queries, sections.queries]).astype(np.float32)
    article_ids = list(dict.fromkeys(passage_articles))
    position = {a: i for i, a in enumerate(article_ids)}
    sums = question_sums(article_ids, passage_articles, passage_kinds, embeddings).astype(np.float64)
    norms = np.linalg.norm(sums, axis=1)
    norms[norms == 0] = 1.0
    # Each article's sections summed: the stand-in centroid of an article whose only question or summary passage
    # is the hidden one (see the module doc).
    sections_sum = np.zeros_like(sums)
    is_section = np.array([kind == "section" for kind in passage_kinds], dtype=bool)
    np.add.at(sections_sum, [position[a] for a, keep in zip(passage_articles, is_section) if keep],
              np.asarray(embeddings, dtype=np.float64)[is_section])
    probabilities = fold_probabilities(embeddings, passage_kinds, [article_category[a] for a in passage_articles],
                                       queries, [s.hidden for s in searched])
    n = setup.candidates
    out = []
    for i, search in enumerate(searched):
        if i % 256 == 0:  # one matrix product per block of queries
            block = embeddings @ queries[i:i + 256].T
        query = queries[i].astype(np.float64)
        sims = block[:, i % 256].astype(np.float64)
        own_sum = sums[position[search.article]]
        for row in search.hidden:
            sims[row] = -np.inf
            if passage_kinds[row] != "section":
                own_sum = own_sum - embeddings[row]
                if not np.linalg.norm(own_sum) > 1e-6:
                    own_sum = sections_sum[position[search.article]]
        if search.stand_in is not None:  # one more row, after the passages': its section's text
            sims = np.append(sims, float(search.stand_in.astype(np.float64) @ query))
        top = np.argpartition(-sims, min(n * 4, len(sims)) - 1)[:n * 4]
        top = [int(r) for r in top[np.argsort(-sims[top], kind="stable")] if np.isfinite(sims[r])]
        vector = best_per_key((passage_articles[r] if r < len(passage_articles) else search.article, float(sims[r]))
                              for r in top)[:n]
        near = [float(sums[position[a]] @ query) / norms[position[a]] for a, _ in vector]
        for j, (a, _) in enumerate(vector):
            if a == search.article:
                near[j] = float(own_sum @ query) / (float(np.linalg.norm(own_sum)) or 1.0)
        vector_ranked = best_per_key((a, s + setup.centroid_weight * c) for (a, s), c in zip(vector, near))
        hits = keyword.search(search.text, n, allowed, hide=(search.article, search.field, search.rest))
        out.append(HeldOutSearch(group_of.get(search.article, search.article), vector, vector_ranked,
                                 best_per_key((h.article_id, h.score) for h in hits), probabilities[i]))
    return out


def fit_fusion(keyword_dir: Path, allowed: tuple[str, ...], embeddings: np.ndarray, passage_articles: list[str],
               passage_kinds: list[str], article_category: Mapping[str, str], queries: np.ndarray, held: HeldOut,
               hidden: list[int], group_of: Mapping[str, str], setup: FusionSetup | None,
               sections: SectionSearches | None = None) -> dict:
    """The fusion weights fitted on one audience's held-out searches, its sub-section headings' (`sections`)
    included (fit_weights' report; empty when there is nothing to fit: reciprocal-rank fusion, or no held-out
    texts)."""
    if setup is None or not held.texts or len(set(passage_articles)) < 2:
        return {}
    keyword = KeywordIndex(keyword_dir)
    try:
        searches = held_out_searches(keyword, allowed, embeddings, passage_articles, passage_kinds, article_category,
                                     queries, held, hidden, group_of, setup, sections)
    finally:
        keyword.close()
    return fit_weights(searches, article_category, group_of, setup.keyword_weight, setup.category_weight)
