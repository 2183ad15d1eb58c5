"""`kb build`: check the articles, embed what changed, write keyword + vector indexes, publish atomically."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from indexer import publish
from indexer.calibrate import train_models
from indexer.passages import Passage, article_sections, keyword_docs_for, passages_for
from indexer.render import render_markdown
from kb import keyword_index, vector_index
from kb.articles import Article
from kb.check import HelpCenter, load_help_center, resolve_link
from kb.config import Settings
from kb.encoder import Encoder, load_encoder
from kb.errors import ArticleError, BuildError, KbError
from kb.manifest import Manifest, read_manifest

EncoderSource = Encoder | Callable[[], Encoder] | None


@dataclass
class BuildReport:
    index_dir: Path
    build_dir: Path
    articles: int
    passages: int
    embedded: int
    reused: int
    drafts: int
    seconds: float
    warnings: list


def build_index(settings: Settings, encoder: EncoderSource = None, progress: bool | None = None) -> BuildReport:
    """Build the index for settings.articles_dir into settings.index_dir.

    Raises ArticleError when the articles have errors (nothing is written). On any failure or interrupt the
    previous index stays in place.
    """
    started = time.perf_counter()
    center = load_help_center(settings.articles_dir, settings)
    if center.errors:
        raise ArticleError(center.problems)
    articles = sorted(center.published(), key=lambda a: a.id)
    if not articles:
        raise BuildError(f"{settings.articles_dir}: no published articles to index")
    model_name = _model_name(settings, encoder)
    passages = [p for a in articles for p in passages_for(a, settings.section_max_words)]
    get_encoder = _lazy(encoder, settings)
    with publish.build_lock(settings.index_dir):
        return _build(settings, center, articles, passages, model_name, get_encoder, progress, started)


def _build(settings: Settings, center: HelpCenter, articles: list[Article], passages: list[Passage],
           model_name: str, get_encoder: Callable[[], Encoder], progress: bool | None,
           started: float) -> BuildReport:
    cache = _EmbeddingCache.from_previous(settings.index_dir, model_name)
    staging = publish.new_staging_dir(settings.index_dir)
    try:
        embeddings, embedded, reused = _embed(passages, cache, get_encoder, settings.embedding_batch_size,
                                      progress if progress is not None else sys.stderr.isatty())
        if embeddings.shape[1] == 0:
            raise BuildError("the embedding model returned no vectors")
        _write(staging, center, articles, passages, embeddings)
        category = {a.id: a.category for a in articles}
        models = train_models(embeddings, [p.article_id for p in passages], [p.kind for p in passages], category)
        models.classifier.save(staging / "classifier.npz")
        manifest = Manifest(
            model_name=model_name, model_dimension=int(embeddings.shape[1]),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            articles={a.id: a.content_hash for a in articles},
            counts={"articles": len(articles), "passages": len(passages), "embedded": embedded, "reused": reused,
                    "drafts": len(center.articles) - len(articles),
                    "internal": sum(a.audience == "internal" for a in articles),
                    "categories": len(center.categories)},
            git=_git_info(settings.articles_dir), languages=sorted({a.lang for a in articles}),
            vector_index="flat-ip",
            classifier={"type": "logistic-regression", "classes": models.classifier.classes,
                        "trained_on": "passage embeddings (questions, title and description, sections)",
                        **{k: v for k, v in models.report.items() if k != "held_out_vector_top1"}},
            confidence={**models.confidence.to_json(), "held_out_vector_top1": models.report.get("held_out_vector_top1")},
        )
        manifest.write(staging)
        final = publish.publish(settings.index_dir, staging, settings.keep_builds)
    except BaseException:
        publish.discard(staging)
        raise
    return BuildReport(settings.index_dir, final, len(articles), len(passages), embedded, reused,
                       len(center.articles) - len(articles),
                       time.perf_counter() - started, center.warnings)


def _model_name(settings: Settings, encoder: EncoderSource) -> str:
    name = getattr(encoder, "name", None)
    return name if isinstance(name, str) else settings.embedding_model


def _lazy(encoder: EncoderSource, settings: Settings) -> Callable[[], Encoder]:
    """The encoder is loaded only when something must be embedded: an unchanged rebuild never loads it."""
    loaded: list[Encoder] = []

    def get() -> Encoder:
        if not loaded:
            if encoder is None:
                loaded.append(load_encoder(settings.embedding_model, settings.build_threads,
                                           settings.embedding_batch_size, settings.embedding_precision))
            elif callable(encoder) and not hasattr(encoder, "encode_passages"):
                loaded.append(encoder())
            else:
                loaded.append(encoder)  # type: ignore[arg-type]
        return loaded[0]
    return get


class _EmbeddingCache:
    """Embeddings of the previous build, by passage hash, reused when the model is the same."""

    def __init__(self, rows: dict[str, int], matrix: np.ndarray | None) -> None:
        self.rows = rows
        self.matrix = matrix

    @classmethod
    def from_previous(cls, index_dir: Path, model_name: str) -> "_EmbeddingCache":
        current = publish.current_build(index_dir)
        if current is None:
            return cls({}, None)
        try:
            manifest = read_manifest(current)
            if manifest.model_name != model_name:
                return cls({}, None)
            hashes = [p["hash"] for p in json.loads((current / "passages.json").read_text(encoding="utf-8"))]
            matrix = np.load(current / "embeddings.npy", mmap_mode="r")
        except (KbError, OSError, ValueError, KeyError, TypeError):
            return cls({}, None)  # an unreadable previous build only costs re-embedding
        if len(hashes) != len(matrix):
            return cls({}, None)
        return cls({h: i for i, h in enumerate(hashes)}, matrix)

    def get(self, passage_hash: str) -> np.ndarray | None:
        row = self.rows.get(passage_hash)
        return None if row is None or self.matrix is None else np.asarray(self.matrix[row])


def _embed(passages: list[Passage], cache: _EmbeddingCache, get_encoder: Callable[[], Encoder],
           batch_size: int, show_progress: bool) -> tuple[np.ndarray, int, int]:
    """The embedding matrix (one row per passage), distinct texts embedded, passages served from the cache."""
    by_hash: dict[str, np.ndarray] = {}
    for p in passages:
        if p.hash not in by_hash:
            cached = cache.get(p.hash)
            if cached is not None:
                by_hash[p.hash] = cached
    reused = sum(p.hash in by_hash for p in passages)
    # Each distinct text is embedded once; similar lengths are batched together so little is padding.
    missing = sorted({p.hash: p.text for p in passages if p.hash not in by_hash}.items(), key=lambda kv: len(kv[1]))
    if missing:
        encoder = get_encoder()
        from tqdm import tqdm

        with tqdm(total=len(missing), unit="passage", desc="embedding", disable=not show_progress,
                  file=sys.stderr) as bar:
            for start in range(0, len(missing), batch_size):
                batch = missing[start:start + batch_size]
                encoded = encoder.encode_passages([text for _, text in batch])
                if encoded.shape[0] != len(batch):
                    raise BuildError(f"the embedding model returned {encoded.shape[0]} vectors for {len(batch)} passages")
                for (passage_hash, _), row in zip(batch, encoded):
                    by_hash[passage_hash] = row
                bar.update(len(batch))
    dims = {v.shape[0] for v in by_hash.values()}
    if len(dims) > 1:
        raise BuildError(f"embeddings of different sizes {sorted(dims)}: clear the index and rebuild")
    matrix = np.vstack([by_hash[p.hash] for p in passages]).astype(np.float32)
    return matrix, len(missing), reused


def _write(staging: Path, center: HelpCenter, articles: list[Article], passages: list[Passage],
           embeddings: np.ndarray) -> None:
    keyword_index.write_index(staging / "keyword", (d for a in articles for d in keyword_docs_for(a)))
    np.save(staging / "embeddings.npy", embeddings)
    vector_index.write_index(staging / "vectors.faiss", embeddings)
    _write_json(staging / "passages.json", [
        {"article": p.article_id, "anchor": p.anchor, "heading": p.heading, "kind": p.kind, "hash": p.hash}
        for p in passages])
    by_path = {a.path: a.id for a in center.articles if a.status == "published"}

    def link_for(article: Article) -> Callable[[str], str | None]:
        def resolve(target: str) -> str | None:
            target_id = by_path.get(resolve_link(article.path, target))
            return f"/articles/{target_id}" if target_id else None
        return resolve

    _write_json(staging / "articles.json", {a.id: {
        "id": a.id, "title": a.title, "category": a.category, "lang": a.lang, "audience": a.audience,
        "description": a.description, "questions": list(a.questions), "tags": list(a.tags),
        "related": [r for r in a.related if r in by_path.values()], "featured": a.featured, "path": a.path,
        "extra": json.loads(json.dumps(a.extra, default=str)),
        "hash": a.content_hash,
        "sections": [{"anchor": s.anchor, "heading": s.heading, "text": s.text} for s in article_sections(a)],
        "html": render_markdown(a.body, link_for(a)),
    } for a in articles})
    _write_json(staging / "categories.json", {c.id: {"title": c.title, "description": c.description}
                                              for c in center.categories.values()})


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")


def _git_info(articles_dir: Path) -> dict:
    """The commit of the articles' repository, when they are in one."""
    try:
        commit = subprocess.run(["git", "-C", str(articles_dir), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10)
        if commit.returncode != 0:
            return {}
        status = subprocess.run(["git", "-C", str(articles_dir), "status", "--porcelain", "--", "."],
                                capture_output=True, text=True, timeout=10)
        return {"commit": commit.stdout.strip(), "dirty": bool(status.stdout.strip())}
    except (OSError, subprocess.SubprocessError):
        return {}
