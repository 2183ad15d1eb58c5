from __future__ import annotations

import pytest

from kb.fusion import best_per_key, reciprocal_rank_fusion


def test_rrf_matches_hand_computation():
    fused = dict(reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]], k=60))
    assert fused["a"] == pytest.approx(1 / 61)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)
    assert fused["d"] == pytest.approx(1 / 62)
    assert [key for key, _ in reciprocal_rank_fusion([["a", "b", "c"], ["b", "d"]])] == ["b", "a", "d", "c"]


def test_rrf_weights_and_ties():
    assert [k for k, _ in reciprocal_rank_fusion([["x"], ["y"]])] == ["x", "y"]  # tie: first seen wins
    assert [k for k, _ in reciprocal_rank_fusion([["x"], ["y"]], weights=[1.0, 2.0])] == ["y", "x"]
    assert reciprocal_rank_fusion([[], []]) == []


def test_best_per_key_keeps_best_section():
    assert best_per_key([("a", 0.2), ("b", 0.5), ("a", 0.9), ("c", 0.5)]) == [("a", 0.9), ("b", 0.5), ("c", 0.5)]


def test_score_fusion_scales_keyword_scores_per_query():
    from kb.fusion import score_fusion

    fused = dict(score_fusion([("a", 0.8), ("b", 0.7)], [("b", 20.0), ("c", 10.0)], keyword_weight=0.2))
    assert fused["a"] == pytest.approx(0.8)
    assert fused["b"] == pytest.approx(0.7 + 0.2 * 1.0)
    assert fused["c"] == pytest.approx(0.2 * 0.5)
    assert [k for k, _ in score_fusion([("a", 0.8), ("b", 0.7)], [("b", 20.0)], 0.2)] == ["b", "a"]
    assert score_fusion([("a", 0.5)], [], 0.2) == [("a", 0.5)]


def test_reweight_by_category():
    from kb.fusion import reweight_by_category

    ranked = reweight_by_category([("a", 1.0), ("b", 0.9)], {"a": "x", "b": "y"}, {"x": 0.0, "y": 1.0}, 0.5)
    assert ranked == [("b", pytest.approx(1.35)), ("a", 1.0)]
