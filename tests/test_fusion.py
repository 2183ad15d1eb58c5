from __future__ import annotations

import pytest

from search.fusion import best_per_key, reciprocal_rank_fusion


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
