"""`kb eval`: ranking quality and out-of-scope detection on a file of labelled queries."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from kb.config import Settings
from kb.errors import KbError
from search.service import MODES, SearchService


class EvalFileError(KbError):
    """The evaluation file is malformed."""


@dataclass(frozen=True)
class Row:
    query: str
    expected: str | None
    category: str | None = None


def read_rows(path: Path) -> list[Row]:
    """JSONL rows {"query": ..., "expected": "<article id>" | null[, "category": ...]}; errors name the line."""
    rows = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalFileError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise EvalFileError(f"{path}:{number}: not valid JSON ({exc})") from None
        if not isinstance(data, dict) or not isinstance(data.get("query"), str) or "expected" not in data \
                or not (data["expected"] is None or isinstance(data["expected"], str)):
            raise EvalFileError(f'{path}:{number}: expected {{"query": "...", "expected": "<article id>" or null}}')
        rows.append(Row(data["query"], data["expected"], data.get("category")))
    if not rows:
        raise EvalFileError(f"{path}: no queries")
    return rows


def reciprocal_rank(ranking: Sequence[str], expected: str, cutoff: int = 10) -> float:
    for rank, key in enumerate(ranking[:cutoff], start=1):
        if key == expected:
            return 1.0 / rank
    return 0.0


def auroc(positives: Sequence[float], negatives: Sequence[float]) -> float | None:
    """P(a random positive scores above a random negative), ties counted half (Mann-Whitney)."""
    if not positives or not negatives:
        return None
    import numpy as np

    pos, neg = np.sort(np.asarray(positives)), np.asarray(negatives)
    below = np.searchsorted(pos, neg, side="left")
    above_or_equal = np.searchsorted(pos, neg, side="right")
    wins = (len(pos) - above_or_equal).sum() + 0.5 * (above_or_equal - below).sum()
    return float(wins / (len(pos) * len(neg)))


def evaluate(service: SearchService, rows: list[Row], batch: int = 256) -> dict:
    known = [r for r in rows if r.expected is not None]
    missing = sorted({r.expected for r in known} - set(service.articles))
    if missing:
        raise EvalFileError(f"expected article(s) not in the index: {', '.join(missing[:10])}")
    per_mode = {m: {"top1": 0.0, "recall3": 0.0, "mrr10": 0.0} for m in MODES}
    category_right = in_conf = out_conf = 0
    in_scores: list[float] = []
    out_scores: list[float] = []
    for start in range(0, len(rows), batch):
        chunk = rows[start:start + batch]
        service.prime([r.query for r in chunk])
        for row in chunk:
            responses = {m: service.search(row.query, k=10, mode=m) for m in MODES}
            hybrid = responses["hybrid"]
            if row.expected is None:
                out_scores.append(hybrid.confidence)
                out_conf += hybrid.confident
                continue
            in_scores.append(hybrid.confidence)
            in_conf += hybrid.confident
            for mode, response in responses.items():
                ids = [h.id for h in response.hits]
                stats = per_mode[mode]
                stats["top1"] += bool(ids) and ids[0] == row.expected
                stats["recall3"] += row.expected in ids[:3]
                stats["mrr10"] += reciprocal_rank(ids, row.expected)
            category = row.category or service.articles[row.expected].category
            category_right += hybrid.category == category
    n = max(1, len(known))
    result = {
        "queries": len(rows), "in_scope": len(known), "out_of_scope": len(rows) - len(known),
        **{k: round(v / n, 4) for k, v in per_mode["hybrid"].items()},
        "category_accuracy": round(category_right / n, 4),
        "modes": {m: {k: round(v / n, 4) for k, v in stats.items()} for m, stats in per_mode.items()},
        "in_scope_confident": round(in_conf / n, 4),
        "out_of_scope_auroc": None if not out_scores else round(auroc(in_scores, out_scores), 4),
        "out_of_scope_confident": None if not out_scores else round(out_conf / len(out_scores), 4),
        "confidence_threshold": service.settings.confidence_threshold,
    }
    return result


def evaluate_file(settings: Settings, path: Path) -> dict:
    """`kb eval FILE`: the figures of the index at settings.index_dir on the labelled queries in `path`."""
    rows = read_rows(path)
    service = SearchService.load(settings.index_dir, settings)
    try:
        return evaluate(service, rows)
    finally:
        service.close()


def format_table(result: dict) -> Iterable[str]:
    yield f"{result['queries']} queries: {result['in_scope']} in scope, {result['out_of_scope']} out of scope"
    yield f"{'ranking':<10}{'top-1':>8}{'recall@3':>10}{'MRR@10':>8}"
    for mode, stats in result["modes"].items():
        yield f"{mode:<10}{stats['top1']:>8.4f}{stats['recall3']:>10.4f}{stats['mrr10']:>8.4f}"
    yield f"category accuracy      {result['category_accuracy']:.4f}"
    yield f"in-scope confident     {result['in_scope_confident']:.4f}  (threshold {result['confidence_threshold']})"
    if result["out_of_scope"]:
        yield f"out-of-scope AUROC     {result['out_of_scope_auroc']:.4f}"
        yield f"out-of-scope confident {result['out_of_scope_confident']:.4f}"
