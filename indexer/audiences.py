"""What each audience's search is built from: customers' from the public articles alone, agents' from all of them.

A customer's search must not be shaped by an internal article in any way: not the words its spelling fixes
know, the categories its classifier predicts, the curve its confidence comes from, nor the vectors it searches.
So each audience (kb.index.manifest.AUDIENCES) gets its own, trained on the passages of the articles it may see.
"""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np

from indexer.calibrate import CALIBRATION, SectionSearches, train_models
from indexer.fusion_fit import FUSION_FIT, FusionSetup, fit_fusion
from indexer.held_out import (HeldOutSections, each_text_once, embed_held_out, embed_sections, held_out_sections,
                              held_out_texts)
from indexer.passages import Passage
from indexer.previous import PreviousBuild
from kb.articles import Article, Category
from kb.index.classifier import CONFIDENCE_FEATURES
from kb.index.keyword import PARTITIONS
from kb.index.layout import IndexFiles
from kb.index.manifest import AUDIENCES
from kb.index.vector import write_index
from kb.language import query_language


def passage_rows(articles: list[Article], passages: list[Passage], audiences: tuple[str, ...]) -> list[int]:
    """Rows (in index order) of the passages of the articles whose audience is one of `audiences`."""
    audience_of = {a.id: a.audience for a in articles}
    return [row for row, p in enumerate(passages) if audience_of[p.article_id] in audiences]


def write_partition_vectors(path_of: Callable[[str], Path], articles: list[Article], passages: list[Passage],
                            embeddings: np.ndarray, exact_max: int) -> dict[str, str]:
    """One vector index per partition (kb.index.keyword.PARTITIONS), of the vectors of its own articles' passages,
    at `path_of(partition)`: exact up to `exact_max` vectors, else an inverted file; each one's kind."""
    return {partition: write_index(path_of(partition), embeddings[passage_rows(articles, passages, (partition,))],
                                   exact_max)
            for partition in PARTITIONS}


def category_audiences(categories: dict[str, Category], articles: list[Article]) -> dict[str, str]:
    """Per declared category, who may see it: 'internal' when every article it holds is internal (agents only),
    else 'public' (a category without articles too: it names nothing customers may not read)."""
    held: dict[str, set[str]] = {}
    for article in articles:
        held.setdefault(article.category, set()).add(article.audience)
    return {cid: "internal" if held.get(cid) == {"internal"} else "public" for cid in categories}


def train_audience_models(staging: Path, articles: list[Article], passages: list[Passage], embeddings: np.ndarray,
                          previous: PreviousBuild, encode_queries: Callable[[Sequence[str]], np.ndarray],
                          false_positive_rate: float, translations: Mapping[str, Mapping[str, str]],
                          fusion_setup: FusionSetup | None = None, reads: Callable[[str], bool] | None = None,
                          encode_passages: Callable[[Sequence[str]], np.ndarray] | None = None,
                          query_path: str = "") -> dict:
    """Per audience, the category classifier (written to staging) and the confidence curve, trained on what that
    audience may see (the curve from its articles' titles, descriptions and questions searched as customers'
    queries, embedded by `encode_queries`; indexer/held_out.py); reused from the previous build when its
    training data is unchanged. Also the fusion weights fitted on the same searches (indexer/fusion_fit.py).
    `reads`: the texts the model reads (an English-only model's curve is calibrated on the texts in Latin letters:
    a query in other letters is never confident with it, so those searches would only blur its curve).
    `encode_passages`: with it, sub-section headings are searched too (indexer/held_out.py HeldOutSections).
    `query_path`: what makes `encode_queries`' vectors (kb.embedding.encoders.query_path), part of the key.
    Returns the manifest's `classifier`, `confidence` and `fusion` entries."""
    category = {a.id: a.category for a in articles}
    encode_queries = each_text_once(encode_queries)
    encode_passages = each_text_once(encode_passages) if encode_passages is not None else None
    # an article's language versions answer the same questions: calibration leaves them out together
    group_of = {key: min(versions.values()) for key, versions in translations.items()}
    classifier: dict = {"type": "logistic-regression",
                        "trained_on": "passage embeddings (questions, title and description, sections)"}
    confidence: dict = {}
    fusion: dict = {}
    keys = []
    trained: dict[str, str] = {}  # training key -> the audience trained on it in this build
    for audience, allowed in AUDIENCES.items():
        rows = passage_rows(articles, passages, allowed)
        # The key covers the training data and what the models compute from it.
        key = hashlib.sha256("\n".join([" ".join(CONFIDENCE_FEATURES), CALIBRATION, str(false_positive_rate),
                                        "reads: " + getattr(reads, "__name__", "all"), "queries: " + query_path,
                                        FUSION_FIT, repr(fusion_setup)] + [
            f"{passages[r].hash} {passages[r].kind} {passages[r].article_id} {category[passages[r].article_id]}"
            for r in rows]).encode("utf-8")).hexdigest()[:32]
        keys.append(key)
        path = IndexFiles(staging).classifier(audience)
        if key in trained:  # no internal articles: agents' training data is customers', the models too
            shutil.copy(IndexFiles(staging).classifier(trained[key]), path)
            classifier[audience], confidence[audience] = classifier[trained[key]], confidence[trained[key]]
            fusion[audience] = fusion[trained[key]]
            continue
        trained[key] = audience
        reuse = previous.models(audience, key)
        if reuse is not None:
            shutil.copy(reuse["classifier"], path)
            classifier[audience], confidence[audience] = reuse["report"], reuse["confidence"]
            fusion[audience] = reuse["fusion"]
            continue
        held = held_out_texts(articles, passages, rows)
        local = {row: n for n, row in enumerate(rows)}
        queries, hidden = embed_held_out(held, encode_queries), [local.get(r, -1) for r in held.hidden]
        passage_articles, passage_kinds = [passages[r].article_id for r in rows], [passages[r].kind for r in rows]
        read = [n for n, text in enumerate(held.texts) if reads is None or reads(text)]
        sections = (section_searches(held_out_sections(articles, passages, rows), local, reads, encode_queries,
                                     encode_passages) if encode_passages is not None else None)
        models = train_models(embeddings[rows], passage_articles, passage_kinds, category, queries[read],
                              [held.articles[n] for n in read], [hidden[n] for n in read], false_positive_rate,
                              group_of, [query_language(held.texts[n]) for n in read], sections=sections)
        fusion[audience] = fit_fusion(IndexFiles(staging).keyword, allowed, embeddings[rows], passage_articles,
                                      passage_kinds, category, queries, held, hidden, group_of, fusion_setup, sections)
        models.classifier.save(path)
        report = {k: v for k, v in models.report.items() if k != "held_out_vector_top1"}
        classifier[audience] = {"classes": models.classifier.classes, "training_key": key, **report}
        confidence[audience] = {**models.confidence.to_json(),
                                "held_out_vector_top1": models.report.get("held_out_vector_top1")}
    classifier["training_key"] = hashlib.sha256(" ".join(keys).encode("utf-8")).hexdigest()[:32]
    return {"classifier": classifier, "confidence": confidence, "fusion": fusion}


def section_searches(sections: HeldOutSections, local: Mapping[int, int], reads: Callable[[str], bool] | None,
                     encode_queries: Callable[[Sequence[str]], np.ndarray],
                     encode_passages: Callable[[Sequence[str]], np.ndarray]) -> SectionSearches | None:
    """The sub-section searches of one audience's calibration, embedded (`local`: a passage's row among the
    audience's rows); None when there are none the model reads."""
    if reads is not None:
        sections = sections.only(reads)
    if not sections.headings:
        return None
    queries, stand_ins = embed_sections(sections, encode_queries, encode_passages)
    return SectionSearches(queries, sections.articles, [tuple(local[r] for r in rows) for rows in sections.rows],
                           stand_ins, [query_language(text) for text in sections.headings], sections.headings,
                           sections.rests)
