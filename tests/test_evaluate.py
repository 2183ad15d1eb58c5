from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.build import build_index
from search.evaluate import EvalFileError, Row, auroc, evaluate, read_rows, reciprocal_rank
from search.service import SearchService


def test_auroc_matches_hand_computation():
    assert auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert auroc([0.1], [0.9]) == 0.0
    assert auroc([0.5, 0.7], [0.5, 0.6]) == pytest.approx((0.5 + 0 + 1 + 1) / 4)
    assert auroc([], [0.1]) is None


def test_reciprocal_rank():
    assert reciprocal_rank(["a", "b", "c"], "c") == pytest.approx(1 / 3)
    assert reciprocal_rank(["a"] * 10 + ["x"], "x") == 0.0


def test_read_rows_names_the_bad_line(tmp_path: Path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "a", "expected": "x"}\n\n{"query": "b"}\n', encoding="utf-8")
    with pytest.raises(EvalFileError, match=r"q.jsonl:3: expected"):
        read_rows(path)
    path.write_text('{"query": "a", "expected": null}\nnot json\n', encoding="utf-8")
    with pytest.raises(EvalFileError, match=r"q.jsonl:2: not valid JSON"):
        read_rows(path)
    path.write_text('{"query": "a", "expected": null}\n', encoding="utf-8")
    assert read_rows(path) == [Row("a", None)]


def test_evaluate_scores_modes_and_out_of_scope(settings, encoder):
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    rows = [Row("printer offline", "printer-offline"), Row("forgot password", "reset-password"),
            Row("впн не работает", "vpn-oshibka"), Row("zzzz qqqq", None), Row("xylophone", None)]
    result = evaluate(service, rows)
    assert (result["in_scope"], result["out_of_scope"]) == (3, 2)
    assert result["top1"] == 1.0 and result["recall3"] == 1.0 and result["mrr10"] == 1.0
    assert set(result["modes"]) == {"hybrid", "keyword", "vector"}
    assert result["modes"]["keyword"]["top1"] == 1.0
    assert 0.0 <= result["out_of_scope_auroc"] <= 1.0
    assert result["category_accuracy"] >= 0.0


def test_evaluate_rejects_unknown_expected_ids(settings, encoder):
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    with pytest.raises(EvalFileError, match="not in the index: ghost"):
        evaluate(service, [Row("q", "ghost")])


def test_search_response_carries_category_and_confidence(settings, encoder):
    build_index(settings, encoder)
    service = SearchService.load(settings.index_dir, settings, encoder)
    response = service.search("printer offline")
    assert response.category in service.categories
    assert 0.0 <= response.confidence <= 1.0
    assert response.confident == (response.confidence >= settings.confidence_threshold)
    data = json.loads(json.dumps(response.to_dict()))
    assert set(data) >= {"query", "category", "confidence", "confident", "results"}
    assert set(data["results"][0]["parts"]) == {"keyword", "vector", "fused", "category", "final"}
    empty = service.search("   ")
    assert (empty.hits, empty.confident, empty.confidence) == ([], False, 0.0)
