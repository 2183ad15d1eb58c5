"""Multilingual search quality: Russian, Ukrainian, Bulgarian and English queries against the sample help center.

    .venv/bin/python bench/multilingual.py [--models all-MiniLM-L6-v2 multilingual-e5-small use-multilingual-v3]

The queries (bench/data/multilingual.jsonl) are customer phrasings written for this evaluation; each lists the
articles that answer it (any language version of an article counts). Ukrainian and
Bulgarian queries have no article in their language: only cross-lingual search can answer them. For every
embedder the sample help center is built into its own index and each query is searched three ways (hybrid,
vector only, keyword only); reported per language: top-1 (the first result answers) and recall@3, and the
median time of a search whose query vector is already computed (the embedding is measured separately, below the
table). It asserts nothing: it measures.

`--titles` follows another protocol: only the English articles are indexed, and each article's title and
description, in Russian and Ukrainian translation (bench/data/translated_titles.jsonl) and in English, are the
queries; reported per language and kind. Beside kb's figures it reports plain multilingual-e5-small on the same
articles (plain_top1, plain_recall3): each English public article embedded once as one passage (title, description
and opening paragraph), each query as a query, articles ranked by cosine.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from indexer.build import BuildReport, build_index  # noqa: E402
from bench.long_articles import published  # noqa: E402
from bench.report import write_report  # noqa: E402
from kb.articles import Article  # noqa: E402
from kb.config import Settings  # noqa: E402
from kb.embedding.encoders import Encoder, load_encoder  # noqa: E402
from kb.sections import plain_text, split_sections  # noqa: E402
from search.service import SearchService  # noqa: E402

QUERIES = ROOT / "bench" / "data" / "multilingual.jsonl"
TITLES = ROOT / "bench" / "data" / "translated_titles.jsonl"
MODES = ("hybrid", "vector", "keyword")
PLAIN_MODEL = "multilingual-e5-small"  # the baseline of --titles: this model with no search around it


def load_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(service: SearchService, rows: list[dict]) -> dict:
    groups = {a.group for a in service.articles.values()}  # translations: one id, several keys
    unknown = sorted({e for r in rows for e in r["expected"]} - groups)
    if unknown:
        raise SystemExit(f"{QUERIES}: expected articles not in the index: {', '.join(unknown)}")
    service.prime([r["query"] for r in rows])
    by_lang: dict[str, dict] = {}  # by language, or language/kind ("ru/title")
    times = []
    for row in rows:
        group = row["lang"] + (f"/{row['kind']}" if "kind" in row else "")
        stats = by_lang.setdefault(group, {"queries": 0, **{f"{m}_{k}": 0 for m in MODES
                                                                  for k in ("top1", "recall3")}})
        stats["queries"] += 1
        for mode in MODES:
            start = time.perf_counter()
            ids = [service.articles[h.id].group
                   for h in service.search(row["query"], k=10, mode=mode).hits]
            if mode == "hybrid":
                times.append(time.perf_counter() - start)
            stats[f"{mode}_top1"] += bool(ids) and ids[0] in row["expected"]
            stats[f"{mode}_recall3"] += any(i in row["expected"] for i in ids[:3])
    for stats in by_lang.values():
        for key in list(stats):
            if key != "queries":
                stats[key] = round(stats[key] / stats["queries"], 3)
    return {"languages": by_lang, "search_p50_ms": round(float(np.percentile(times, 50)) * 1000, 1)}


def english_only(source: Path, target: Path) -> tuple[Path, list[dict]]:
    """A copy of the help center without its articles in other languages, and the English public articles' own
    titles and descriptions as English queries."""
    import shutil

    from kb.check import load_help_center

    center = load_help_center(source, Settings())
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    shutil.copy(source / "categories.yml", target / "categories.yml")
    rows = []
    for article in center.articles:
        if article.lang != "en":
            continue
        rel = Path(article.path).relative_to(source)  # load_help_center names files under the folder it was given
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / rel, target / rel)
        if article.status == "published" and article.audience == "public":
            rows += [{"lang": "en", "kind": "title", "query": article.title, "expected": [article.id]},
                     {"lang": "en", "kind": "description", "query": article.description, "expected": [article.id]}]
    return target, rows


def opening_paragraph(body: str) -> str:
    """The first paragraph of an article's text, as a reader sees it (its first section's, if it opens with a
    heading)."""
    sections = split_sections(body)
    if not sections:
        return ""
    return plain_text(sections[0].text).split("\n\n")[0].strip()


def plain_passage(article: Article) -> str:
    """What the plain baseline embeds for an article: its title, description and opening paragraph."""
    return "\n".join(part for part in (article.title, article.description, opening_paragraph(article.body)) if part)


def plain_baseline(articles: list[Article], rows: list[dict], encoder: Encoder) -> dict[str, dict]:
    """Top-1 and recall@3 per language/kind of `rows` when each of `articles` is one passage vector
    (`plain_passage`) and a query's articles are ranked by cosine alone: {"ru/title": {"plain_top1": ..,
    "plain_recall3": ..}}."""
    ids = [a.id for a in articles]
    passages = encoder.encode_passages([plain_passage(a) for a in articles])
    queries = encoder.encode_queries([r["query"] for r in rows])
    counts: dict[str, list[int]] = {}  # group -> [queries, top1, recall3]
    for row, vector in zip(rows, queries):
        ranked = [ids[i] for i in np.argsort(-(passages @ vector), kind="stable")[:3]]
        group = counts.setdefault(row["lang"] + (f"/{row['kind']}" if "kind" in row else ""), [0, 0, 0])
        group[0] += 1
        group[1] += ranked[0] in row["expected"]
        group[2] += any(i in row["expected"] for i in ranked)
    return {g: {"plain_top1": round(top1 / n, 3), "plain_recall3": round(recall3 / n, 3)}
            for g, (n, top1, recall3) in counts.items()}


def below_plain(result: dict) -> list[str]:
    """The languages/kinds where kb's hybrid recall@3 is below the plain baseline's."""
    return sorted(g for g, s in result["languages"].items()
                  if "plain_recall3" in s and s["hybrid_recall3"] < s["plain_recall3"])


def built_service(model: str, articles: Path, work: Path) -> tuple[SearchService, Encoder, BuildReport, float]:
    """`articles` built with `model` into `work/<model>/index` (one compute thread) and loaded: the service, its
    encoder, the build's report and how many seconds the build took."""
    settings = Settings(articles_dir=articles, index_dir=work / model / "index", embedding_model=model)
    encoder = load_encoder(model, 1, 32, settings.embedding_precision, settings.query_runtime,
                           settings.model_cache_dir)
    started = time.perf_counter()
    report = build_index(settings, encoder, progress=False)
    build_seconds = time.perf_counter() - started
    return SearchService.load(settings.index_dir, settings, encoder), encoder, report, build_seconds


def run(model: str, work: Path, rows: list[dict], articles: Path) -> dict:
    service, encoder, report, build_seconds = built_service(model, articles, work)
    result = evaluate(service, rows)
    embed = []
    for row in rows:
        start = time.perf_counter()
        encoder.encode_queries([row["query"]])
        embed.append(time.perf_counter() - start)
    result["query_embedding_ms"] = {"p50": round(float(np.percentile(embed, 50)) * 1000, 1),
                                    "p95": round(float(np.percentile(embed, 95)) * 1000, 1)}
    result.update(build_seconds=round(build_seconds, 1), passages=report.passages, embedded=report.embedded)
    return result


def print_table(results: dict) -> None:
    print(f"\n{'model':24s} {'lang':14s} {'n':>3s}  {'hybrid top1/r@3':>16s}  {'vector top1/r@3':>16s}  "
          f"{'keyword top1/r@3':>17s}  {'plain e5 top1/r@3':>17s}")
    for model, result in results.items():
        for lang, s in sorted(result["languages"].items()):
            plain = f"{s['plain_top1']:>9.3f} / {s['plain_recall3']:.3f}" if "plain_top1" in s else ""
            print(f"{model:24s} {lang:14s} {s['queries']:>3d}  {s['hybrid_top1']:>7.3f} / {s['hybrid_recall3']:.3f}  "
                  f"{s['vector_top1']:>7.3f} / {s['vector_recall3']:.3f}  "
                  f"{s['keyword_top1']:>8.3f} / {s['keyword_recall3']:.3f}  {plain}")
        if "below_plain" in result:
            below = ", ".join(result["below_plain"]) or "none"
            print(f"{model:24s} hybrid recall@3 below plain {PLAIN_MODEL}: {below}")
        print(f"{model:24s} query embedding p50/p95 {result['query_embedding_ms']['p50']}/"
              f"{result['query_embedding_ms']['p95']} ms, search after it p50 {result['search_p50_ms']} ms, "
              f"build {result['build_seconds']} s ({result['embedded']} passages embedded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+",
                        default=["all-MiniLM-L6-v2", "multilingual-e5-small", "use-multilingual-v3"])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--titles", action="store_true",
                        help="Index the English articles only and search with their titles and descriptions in "
                             "Russian and Ukrainian (bench/data/translated_titles.jsonl) and in English")
    parser.add_argument("--work", type=Path, help="keep the indexes here (reused by the next run)")
    parser.add_argument("--out", type=Path, default=None, help="default: bench/out/multilingual[-titles].json")
    args = parser.parse_args()
    rows = load_rows(TITLES if args.titles else args.queries)
    results = {}
    with tempfile.TemporaryDirectory(prefix="kb-bench-multilingual-") as tmp:
        work = args.work or Path(tmp)
        articles = ROOT / "articles"
        plain = None
        if args.titles:
            articles, english = english_only(articles, work / "english-articles")
            rows += english
            work = work / "titles"
            settings = Settings()
            plain = plain_baseline(published(articles), rows, load_encoder(
                PLAIN_MODEL, 1, 32, settings.embedding_precision, settings.query_runtime, settings.model_cache_dir))
        for model in args.models:
            results[model] = run(model, work, rows, articles)
            if plain is not None:
                for group, stats in results[model]["languages"].items():
                    stats.update(plain[group])
                results[model]["below_plain"] = below_plain(results[model])
            print(f"{model}: {json.dumps(results[model])}", flush=True)
    print_table(results)
    args.out = args.out or ROOT / "bench" / "out" / f"multilingual{'-titles' if args.titles else ''}.json"
    write_report(args.out, results)


if __name__ == "__main__":
    main()
