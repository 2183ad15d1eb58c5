"""The category prior on crafted rankings: it re-weights close matches, never buries a clearly stronger one."""
from __future__ import annotations

import pytest

from kb.fusion import reweight_by_category
from kb.prior import apply_category_prior, clear_margin

# Article A (category X) has the best passage by far; three articles of category Y are close to each other; the
# rest of the candidates trail. The fused scores follow the cosines, as they do when keywords add little.
VECTOR = [("A", 0.67), ("Y1", 0.55), ("Y2", 0.55), ("Y3", 0.54), ("Z1", 0.50), ("Z2", 0.48), ("Z3", 0.47),
          ("Z4", 0.46), ("Z5", 0.45), ("Z6", 0.44)]
FUSED = [(key, 1.5 * cos) for key, cos in VECTOR]
CATEGORY = {"A": "x", "Y1": "y", "Y2": "y", "Y3": "y", **{f"Z{i}": "z" for i in range(1, 7)}}
P = {"x": 0.02, "y": 0.91, "z": 0.07}
WEIGHT = 0.3


def test_the_plain_reweighting_buries_the_stronger_match():
    # What the prior did alone: the Y articles pass A. The cases below must not behave like this.
    ranked = reweight_by_category(FUSED, CATEGORY, P, WEIGHT)
    assert [key for key, _ in ranked][:4] == ["Y1", "Y2", "Y3", "A"]


def test_a_clearly_stronger_match_from_another_category_stays_first():
    ranked = apply_category_prior(FUSED, VECTOR, CATEGORY, P, WEIGHT)
    assert [key for key, _ in ranked][:4] == ["A", "Y1", "Y2", "Y3"]
    assert [key for key, _ in ranked] == ["A"] + [key for key, _ in reweight_by_category(FUSED[1:], CATEGORY, P,
                                                                                          WEIGHT)]


def test_scores_never_increase_down_the_list_and_keep_every_article():
    ranked = apply_category_prior(FUSED, VECTOR, CATEGORY, P, WEIGHT)
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)
    assert sorted(key for key, _ in ranked) == sorted(key for key, _ in FUSED)
    # A keeps at least the score of the article it stays ahead of, the others their re-weighted scores.
    reweighted = dict(reweight_by_category(FUSED, CATEGORY, P, WEIGHT))
    assert ranked[0][1] == pytest.approx(reweighted["Y1"])
    assert dict(ranked[1:]) == pytest.approx({k: v for k, v in reweighted.items() if k != "A"})


def test_when_the_matches_are_close_the_prior_decides():
    close = [("A", 0.56)] + VECTOR[1:]
    fused = [(key, 1.5 * cos) for key, cos in close]
    ranked = apply_category_prior(fused, close, CATEGORY, P, WEIGHT)
    assert ranked == reweight_by_category(fused, CATEGORY, P, WEIGHT)
    assert ranked[0][0] == "Y1"


def test_the_margin_scales_with_the_spread_of_the_candidates():
    # The same cosines compressed into a narrow band (an embedder whose cosines crowd together) give the same
    # decisions: the margin is measured in the query's own spread, not as a fixed cosine.
    narrow = [(key, 0.8 + (cos - 0.5) / 4) for key, cos in VECTOR]
    fused = [(key, 1.5 * cos) for key, cos in narrow]
    assert clear_margin([c for _, c in narrow]) == pytest.approx(clear_margin([c for _, c in VECTOR]) / 4)
    ranked = apply_category_prior(fused, narrow, CATEGORY, P, WEIGHT)
    assert [key for key, _ in ranked][:4] == ["A", "Y1", "Y2", "Y3"]


def test_a_lead_the_fusion_did_not_give_is_not_restored():
    # The keyword side put Y1 ahead of A before any prior: the prior is free to keep it there; A still stays
    # ahead of the Y articles it led.
    fused = [("Y1", 1.2), ("A", 1.0)] + FUSED[2:]
    assert [key for key, _ in reweight_by_category(fused, CATEGORY, P, WEIGHT)][:4] == ["Y1", "Y2", "Y3", "A"]
    ranked = apply_category_prior(fused, VECTOR, CATEGORY, P, WEIGHT)
    assert [key for key, _ in ranked][:4] == ["Y1", "A", "Y2", "Y3"]


def test_an_article_outside_the_vector_candidates_counts_as_the_lowest_cosine():
    # K matched keywords only; A leads it in the fusion with a cosine far above the candidates' lowest.
    fused = FUSED[:1] + [("K", 0.99)] + FUSED[1:]
    ranked = apply_category_prior(fused, VECTOR, {**CATEGORY, "K": "y"}, P, WEIGHT)
    assert [key for key, _ in ranked].index("A") < [key for key, _ in ranked].index("K")


def test_no_vector_candidates_or_one_article_leave_the_plain_reweighting():
    fused = [("a", 1.0), ("b", 0.9)]
    assert apply_category_prior(fused, [], {"a": "x", "b": "y"}, {"y": 1.0}, 0.5) == \
        reweight_by_category(fused, {"a": "x", "b": "y"}, {"y": 1.0}, 0.5)
    assert apply_category_prior([("a", 1.0)], [("a", 0.5)], {"a": "x"}, {"x": 1.0}, 0.5) == [("a", 1.5)]
    assert apply_category_prior([], [], {}, {}, 0.5) == []


def test_leads_chain_transitively():
    # A clearly beats B, B clearly beats C (each in the fusion's order); the prior favours C, then B.
    vector = [("A", 0.9), ("B", 0.6), ("C", 0.3)]
    fused = [("A", 1.0), ("B", 0.95), ("C", 0.9)]
    ranked = apply_category_prior(fused, vector, {"A": "x", "B": "y", "C": "z"}, {"y": 0.5, "z": 1.0}, 1.0)
    assert [key for key, _ in ranked] == ["A", "B", "C"]
    assert [key for key, _ in reweight_by_category(fused, {"A": "x", "B": "y", "C": "z"}, {"y": 0.5, "z": 1.0},
                                                   1.0)] == ["C", "B", "A"]


def test_without_a_weight_the_fused_ranking_is_kept_as_it_is():
    assert apply_category_prior(FUSED, VECTOR, CATEGORY, P, 0.0) == FUSED
    mixed = [("Y1", 0.9), ("A", 0.8), ("Z1", 0.8)]  # (a tie keeps the fused order)
    assert apply_category_prior(mixed, VECTOR, CATEGORY, P, 0.0) == mixed
