"""Long articles: whether search finds the right article, and its sub-section, in a help center of long articles.

    .venv/bin/python bench/long_articles.py [--models all-MiniLM-L6-v2] [--articles DIR] [--questions FILE ...]
                                            [--work DIR] [--out FILE.json]

The help center (bench/data/long_center/) is one product's: long articles with `##` sections and `###`/`####`
sub-sections, few or no `questions:`. The questions (bench/data/long_center_questions.jsonl) are customers' own
phrasings, each with the article that answers it and, usually, the anchor of the sub-section that does; the `oos`
rows are questions no article answers.

For every embedder the center is built into its own index, and each question is answered, in the same run, by:
- kb hybrid, kb vector and kb keyword: `SearchService.search` in each mode, k=3;
- plain BM25: Okapi BM25 (k1 1.2, b 0.75) over each article's whole text (title and body as plain text), words
  lower-cased and stemmed with Snowball English (PyStemmer); no field boosts, no spelling fixes, no vectors;
- plain passage search: the same encoder embeds each article's title, and each of its sections (every heading
  level, as kb.sections splits them: heading and text, nothing else) on its own; an article scores its best
  passage's cosine.
Reported on the answerable rows: top-1, top-3, the confident share (kb's modes only: the plain searches have no
confidence) and section@1 (the first hit is the right article and points at the expected anchor; kb's modes and
plain passage search); on the `oos` rows: the share kb answers confidently. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.report import write_report  # noqa: E402
from kb.articles import Article  # noqa: E402
from kb.check import load_help_center  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.sections import plain_text, split_sections  # noqa: E402

ARTICLES = ROOT / "bench" / "data" / "long_center"
QUERIES = ROOT / "bench" / "data" / "long_center_questions.jsonl"
K = 3
KB_MODES = ("hybrid", "vector", "keyword")
SYSTEMS = tuple(f"kb-{m}" for m in KB_MODES) + ("plain-bm25", "plain-passages")


@dataclass(frozen=True)
class Answer:
    """What one system answered to one question."""

    ids: list[str]  # article ids, best first (at most K)
    anchor: str | None  # the first hit's anchor; None when the system does not point into articles
    confident: bool | None  # None when the system has no confidence


def published(articles_dir: Path) -> list[Article]:
    """The center's published public articles (what customers search)."""
    center = load_help_center(articles_dir, Settings())
    errors = [p for p in center.problems if p.level == "error"]
    if errors:
        raise SystemExit("\n".join(f"{p.path}:{p.line}: {p.message}" for p in errors))
    return [a for a in center.articles if a.status == "published" and a.audience == "public"]


_WORDS = re.compile(r"\w+", re.UNICODE)


class PlainBM25:
    """Okapi BM25 over whole articles: one bag of stemmed words per article (title and body)."""

    def __init__(self, articles: Sequence[Article], k1: float = 1.2, b: float = 0.75) -> None:
        import Stemmer

        self._stem = Stemmer.Stemmer("english").stemWords
        self.ids = [a.id for a in articles]
        self.docs = [Counter(self.terms(f"{a.title}\n{plain_text(a.body)}")) for a in articles]
        self.lengths = np.array([sum(d.values()) for d in self.docs], dtype=np.float64)
        self.average = float(self.lengths.mean()) if len(self.docs) else 0.0
        frequency = Counter(term for doc in self.docs for term in doc)
        n = len(self.docs)
        self.idf = {t: math.log(1.0 + (n - df + 0.5) / (df + 0.5)) for t, df in frequency.items()}
        self.k1, self.b = k1, b

    def terms(self, text: str) -> list[str]:
        return self._stem([w.lower() for w in _WORDS.findall(text)])

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.docs))
        norm = self.k1 * (1.0 - self.b + self.b * self.lengths / (self.average or 1.0))
        for term in set(self.terms(query)):
            if term not in self.idf:
                continue
            tf = np.array([doc.get(term, 0) for doc in self.docs], dtype=np.float64)
            out += self.idf[term] * tf * (self.k1 + 1.0) / (tf + norm)
        return out

    def rank(self, query: str, k: int = K) -> list[str]:
        scores = self.scores(query)
        order = sorted((i for i in range(len(scores)) if scores[i] > 0), key=lambda i: (-scores[i], i))
        return [self.ids[i] for i in order[:k]]


class PlainPassages:
    """Each article's title, and each of its sections, embedded on its own; an article scores its best passage."""

    def __init__(self, articles: Sequence[Article], encoder) -> None:
        self.encoder = encoder
        self.owners: list[str] = []
        self.anchors: list[str] = []
        texts: list[str] = []
        for article in articles:
            texts.append(article.title)
            self.owners.append(article.id)
            self.anchors.append("")
            for section in split_sections(article.body):
                text = plain_text(f"{section.heading}\n{section.text}").strip()
                if text:
                    texts.append(text)
                    self.owners.append(article.id)
                    self.anchors.append(section.anchor)
        self.vectors = np.asarray(encoder.encode_passages(texts), dtype=np.float32)

    def rank(self, query_vector: np.ndarray, k: int = K) -> tuple[list[str], str]:
        """The `k` best articles and the anchor of the best passage."""
        cosines = self.vectors @ np.asarray(query_vector, dtype=np.float32)
        ids: list[str] = []
        anchor = ""
        for row in np.argsort(-cosines, kind="stable"):
            owner = self.owners[row]
            if owner not in ids:
                if not ids:
                    anchor = self.anchors[row]
                ids.append(owner)
                if len(ids) == k:
                    break
        return ids, anchor


def kb_answer(service, query: str, mode: str) -> Answer:
    response = service.search(query, k=K, mode=mode)
    ids = [service.articles[h.id].group for h in response.hits]
    return Answer(ids, response.hits[0].anchor if response.hits else "", response.confident and bool(ids))


def answerers(service, encoder, articles: Sequence[Article]) -> dict[str, Callable[[str], Answer]]:
    """Every system of the comparison, as a function from a question to its answer."""
    bm25 = PlainBM25(articles)
    passages = PlainPassages(articles, encoder)

    def plain_passages(query: str) -> Answer:
        ids, anchor = passages.rank(encoder.encode_queries([query])[0])
        return Answer(ids, anchor, None)

    out: dict[str, Callable[[str], Answer]] = {
        f"kb-{mode}": (lambda query, mode=mode: kb_answer(service, query, mode)) for mode in KB_MODES}
    out["plain-bm25"] = lambda query: Answer(bm25.rank(query), None, None)
    out["plain-passages"] = plain_passages
    return out


def score(rows: Sequence[dict], answer: Callable[[str], Answer]) -> tuple[dict, list[dict]]:
    """One system's figures over `rows`, and the rows it misses (answerable: not in its top 3; out-of-scope:
    answered confidently)."""
    answers = [(row, answer(row["query"])) for row in rows]
    has_confidence = all(got.confident is not None for _, got in answers)
    has_anchor = all(got.anchor is not None for _, got in answers)
    tally: Counter[str] = Counter()
    misses = []
    for row, got in answers:
        if not row["expected"]:
            tally["oos"] += 1
            tally["oos_confident"] += bool(got.confident)
            if got.confident:
                misses.append({"query": row["query"], "expected": [], "got": got.ids})
            continue
        expected = set(row["expected"])
        first = bool(got.ids) and got.ids[0] in expected
        top3 = any(i in expected for i in got.ids[:K])
        tally["answerable"] += 1
        tally["top1"] += first
        tally["top3"] += top3
        tally["confident"] += bool(got.confident)
        if row.get("anchor"):
            tally["with_anchor"] += 1
            tally["section1"] += first and got.anchor == row["anchor"]
        if not top3:
            misses.append({"query": row["query"], "expected": row["expected"], "got": got.ids})
    n, m = tally["answerable"], tally["oos"]
    figures = {
        "answerable": n, "out_of_scope": m,
        "top1": _share(tally["top1"], n), "top3": _share(tally["top3"], n),
        "confident": _share(tally["confident"], n) if has_confidence else None,
        "section1": _share(tally["section1"], tally["with_anchor"]) if has_anchor else None,
        "oos_confident": _share(tally["oos_confident"], m) if has_confidence else None,
    }
    return figures, misses


def _share(count: int, total: int) -> float | None:
    return round(count / total, 3) if total else None


def evaluate(service, encoder, articles: Sequence[Article], rows: Sequence[dict]) -> dict:
    """Every system's figures (and misses) over `rows`."""
    known = {service.articles[key].group for key in service.articles}
    unknown = sorted({e for r in rows for e in r["expected"]} - known)
    if unknown:
        raise SystemExit(f"expected articles not in the help center: {', '.join(unknown)}")
    service.prime([r["query"] for r in rows])
    results = {}
    for name, answer in answerers(service, encoder, articles).items():
        figures, misses = score(rows, answer)
        results[name] = {**figures, "misses": misses}
    return results


def load_rows(paths: Sequence[Path]) -> list[dict]:
    rows = []
    for path in paths:
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


def print_table(results: dict) -> None:
    def cell(value: float | None) -> str:
        return f"{value:>7.3f}" if value is not None else f"{'-':>7s}"

    print(f"\n{'model':20s} {'system':15s} {'n':>4s} {'top1':>7s} {'top3':>7s} {'conf':>7s} {'sect@1':>7s}  "
          f"{'oos n':>5s} {'oos conf':>8s}")
    for model, result in results.items():
        for system in SYSTEMS:
            s = result["systems"][system]
            print(f"{model:20s} {system:15s} {s['answerable']:>4d} {cell(s['top1'])} {cell(s['top3'])} "
                  f"{cell(s['confident'])} {cell(s['section1'])}  {s['out_of_scope']:>5d} "
                  f"{cell(s['oos_confident']):>8s}")
        print(f"{model:20s} {result['articles']} articles, {result['passages']} passages, "
              f"build {result['build_seconds']} s")


def main() -> None:
    from bench.multilingual import built_service

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["all-MiniLM-L6-v2"])
    parser.add_argument("--articles", type=Path, default=ARTICLES)
    parser.add_argument("--questions", type=Path, nargs="+", default=[QUERIES])
    parser.add_argument("--work", type=Path, help="keep the indexes here (reused by the next run)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "long_articles.json")
    args = parser.parse_args()
    rows = load_rows(args.questions)
    articles = published(args.articles)
    results = {}
    with tempfile.TemporaryDirectory(prefix="kb-bench-long-") as tmp:
        for model in args.models:
            service, encoder, report, build_seconds = built_service(model, args.articles, args.work or Path(tmp))
            try:
                results[model] = {"articles": len(articles), "passages": report.passages,
                                  "build_seconds": round(build_seconds, 1), "questions": len(rows),
                                  "systems": evaluate(service, encoder, articles, rows)}
            finally:
                service.close()
            print(f"{model}: " + json.dumps({s: {k: v for k, v in f.items() if k != "misses"}
                                             for s, f in results[model]["systems"].items()}), flush=True)
    print_table(results)
    write_report(args.out, results)


if __name__ == "__main__":
    main()
