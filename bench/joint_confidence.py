"""One confidence curve over both models' features, beside today's "confident when either model is".

    .venv/bin/python bench/joint_confidence.py --work DIR [--public-oos 300]

A multilingual index asks the English model for a second opinion on queries in Latin letters, and the service is
confident when either model's curve is (search/second_opinion.py). Each curve has its 0.5 point where
`confidence_false_positive_rate` of its own uncovered calibration searches are confident; the maximum of two
such curves lets through more of them than either. This measures the alternative: one logistic curve over the six
features (each model's best passage, nearest-passages mean and best centroid cosines), calibrated on the same
searches of the help center's titles, descriptions and questions in Latin letters (indexer/calibrate.py), at
several false-positive rates.

DIR is a folder bench/deflection.py built (`--work DIR`: DIR/multilingual-e5-small/index; built here when
missing). Reported for the English rows of bench/data/dev_questions.jsonl and `--public-oos` queries of each public
data set: the calibration searches covered and uncovered that come out confident; answerable rows shown (top 3
and confident), out-of-scope rows and public queries offered confidently, for "either" and for the joint curve at
each rate. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.deflection import FORM_K, PUBLIC_ANSWERED, QUERIES, form_search, public_sample  # noqa: E402
from bench.multilingual import built_service  # noqa: E402
from indexer.audiences import passage_rows  # noqa: E402
from indexer.build import indexed  # noqa: E402
from indexer.calibrate import fit_confidence, searched_cases  # noqa: E402
from indexer.held_out import embed_held_out, held_out_texts  # noqa: E402
from kb.check import load_help_center  # noqa: E402
from kb.index.classifier import KNN, confidence_features  # noqa: E402
from kb.index.layout import IndexFiles  # noqa: E402
from kb.index.manifest import AUDIENCES  # noqa: E402
from kb.language import latin_only  # noqa: E402
from search.prepare import prepare_query  # noqa: E402

MODEL = "multilingual-e5-small"
RATES = (0.35, 0.4, 0.45, 0.5, 0.55)


def calibration_cases(service, settings) -> tuple[np.ndarray, np.ndarray]:
    """Both models' features of the same calibration searches (public audience, texts in Latin letters), side by
    side, and their labels (1 covered, 0 uncovered)."""
    center = load_help_center(settings.articles_dir, settings)
    articles, translations, passages = indexed(center, settings)
    files = IndexFiles(service.index_dir)
    own, second = np.load(files.embeddings), np.load(files.second_embeddings)
    rows = passage_rows(articles, passages, AUDIENCES["public"])
    held = held_out_texts(articles, passages, rows).only(latin_only)
    group_of = {key: min(versions.values()) for key, versions in translations.items()}
    local = {row: n for n, row in enumerate(rows)}
    hidden = [local.get(r, -1) for r in held.hidden]
    owners, kinds = [passages[r].article_id for r in rows], [passages[r].kind for r in rows]
    x, labels = [], None
    for matrix, encoder in ((own, service._encoder), (second, service._second.encoder)):
        queries = embed_held_out(held, encoder.encode_queries)
        features, y, *_ = searched_cases(matrix[rows], owners, kinds, queries, held.articles, hidden, group_of)
        assert labels is None or (labels == y).all()
        x.append(features)
        labels = y
    return np.hstack(x), labels


def query_rows(public_oos: int) -> list[dict]:
    rows = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    for name in PUBLIC_ANSWERED:
        rows += [{"query": q.text, "expected": [], "lang": "en", "kind": f"public:{name}"}
                 for q in public_sample(name, public_oos)]
    return rows


def searched(service, rows: list[dict]) -> list[dict]:
    """Per row in Latin letters (as searched, after fixes): the form's outcome and both models' features."""
    allowed, opinion = AUDIENCES["public"], service._second
    out = []
    for row in rows:
        text = " ".join(row["query"].split())
        prepared = prepare_query(text, lambda word: service._keyword.knows(word, allowed), service._words["public"])
        if not latin_only(prepared.searched):
            continue
        response = form_search(service, text, row["lang"])
        groups = [service.articles[h.id].group for h in response.hits]
        vector = service._embed(prepared.searched)
        candidates = service._retrieve(prepared.searched, vector, allowed)
        own = confidence_features(np.array(candidates.passage_scores), candidates.centroid_best)
        query = opinion.encoder.encode_queries([prepared.searched])[0]
        nearest, _ = opinion._vectors.search(query, KNN, allowed)
        theirs = confidence_features(nearest[0], float((opinion._centroids @ query)[opinion._centroid_rows["public"]].max()))
        group = ("answerable" if row["expected"] else
                 row["kind"] if row["kind"].startswith("public:") else "out-of-scope")
        out.append({"group": group, "listed": bool(groups), "confident": response.confident,
                    "top3": any(g in row["expected"] for g in groups[:FORM_K]), "x": np.hstack([own, theirs])})
    return out


def shares(rows: list[dict], confident: list[bool]) -> dict:
    figures = {}
    for group in sorted({r["group"] for r in rows}):
        picked = [(r, c) for r, c in zip(rows, confident) if r["group"] == group]
        hit = [(r["top3"] if group == "answerable" else r["listed"]) and c for r, c in picked]
        figures[group] = {"queries": len(picked), "share": round(float(np.mean(hit)), 3)}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="bench/deflection.py's --work folder.")
    parser.add_argument("--public-oos", type=int, default=300, metavar="N")
    args = parser.parse_args()
    service, _, _, _ = built_service(MODEL, ROOT / "articles", args.work)
    if service._second is None:
        raise SystemExit(f"{service.index_dir}: no second opinion in this index")
    x, y = calibration_cases(service, service.settings)
    rows = searched(service, query_rows(args.public_oos))
    queries = np.array([r["x"] for r in rows])
    result = {"calibration_searches": {"covered": int(y.sum()), "uncovered": int((y == 0).sum())},
              "either": shares(rows, [r["confident"] for r in rows]), "joint": {}}
    rate = service.settings.confidence_false_positive_rate  # today's two curves, each at the configured rate
    n = x.shape[1] // 2
    either = np.maximum(fit_confidence(x[:, :n], y, rate).predict(x[:, :n]),
                        fit_confidence(x[:, n:], y, rate).predict(x[:, n:])) >= 0.5
    result["either"].update(calibration_covered=round(float(either[y == 1].mean()), 3),
                            calibration_uncovered=round(float(either[y == 0].mean()), 3))
    print(f"either model (today, each curve at {rate}): {result['either']}")
    matched = result["either"]["calibration_uncovered"]  # the joint curve also at today's effective rate
    for rate in sorted({*RATES, matched}):
        curve = fit_confidence(x, y, rate)
        at_half = curve.predict(x) >= 0.5
        result["joint"][str(rate)] = {
            "calibration_covered": round(float(at_half[y == 1].mean()), 3),
            "calibration_uncovered": round(float(at_half[y == 0].mean()), 3),
            **shares(rows, (curve.predict(queries) >= 0.5).tolist())}
        print(f"joint curve, false-positive rate {rate}: {result['joint'][str(rate)]}")
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "joint_confidence.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
