from __future__ import annotations

import json
from pathlib import Path

import pytest

from search.evaluate import EvalFileError, Row, auroc, evaluate, read_rows, reciprocal_rank


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


def test_evaluate_scores_modes_and_out_of_scope(portal_index):
    _, service = portal_index
    rows = [Row("printer offline", "printer-offline"), Row("forgot password", "reset-password"),
            Row("впн не работает", "vpn-oshibka"), Row("forgot password", "reset-password", category="printers"),
            Row("zzzz qqqq", None), Row("xylophone", None), Row("впн не работает", None)]
    result = evaluate(service, rows)
    assert (result["in_scope"], result["out_of_scope"]) == (4, 3)
    assert result["top1"] == 1.0 and result["recall3"] == 1.0 and result["mrr10"] == 1.0
    assert set(result["modes"]) == {"hybrid", "keyword", "vector"}
    assert result["modes"]["keyword"]["top1"] == 1.0
    # the classifier names printers, accounts, vpn and accounts; the fourth row's label says printers: 3 of 4
    assert [service.search(r.query).category for r in rows[:4]] == ["printers", "accounts", "vpn", "accounts"]
    assert result["category_accuracy"] == 0.75
    # 4 in-scope x 3 out-of-scope pairs: every in-scope query outscores the two nonsense queries (8 pairs) and the
    # three matching an English title outscore the Russian query (3); the Russian query against itself ties (0.5)
    confidence = {r.query: service.search(r.query).confidence for r in rows}
    assert max(confidence["zzzz qqqq"], confidence["xylophone"]) < confidence["впн не работает"] \
        < min(confidence["printer offline"], confidence["forgot password"])
    assert result["out_of_scope_auroc"] == round(11.5 / 12, 4)
    # the share of out-of-scope rows answered confidently, as the service answers them one by one
    confident = [service.search(r.query).confident for r in rows[4:]]
    assert confident[2] and result["out_of_scope_confident"] == round(sum(confident) / 3, 4)


def test_evaluate_rejects_unknown_expected_ids(portal_index):
    _, service = portal_index
    with pytest.raises(EvalFileError, match="not in the index: ghost"):
        evaluate(service, [Row("q", "ghost")])


def test_search_response_carries_category_and_confidence(portal_index):
    settings, service = portal_index
    response = service.search("printer offline")
    assert response.category in service.categories
    assert 0.0 <= response.confidence <= 1.0
    assert response.confident == (response.confidence >= settings.confidence_threshold)
    data = json.loads(json.dumps(response.to_dict()))
    assert set(data) >= {"query", "category", "confidence", "confident", "results"}
    assert set(data["results"][0]["parts"]) == {"keyword", "vector", "fused", "category", "final"}
    empty = service.search("   ")
    assert (empty.hits, empty.confident, empty.confidence) == ([], False, 0.0)
