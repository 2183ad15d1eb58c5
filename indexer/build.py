"""`kb build`: check the articles, embed what changed, write keyword + vector indexes, publish atomically."""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

from indexer import git_history, publish
from indexer.embed import embed_passages
from indexer.audiences import category_audiences, train_audience_models, write_partition_vectors
from indexer.fusion_fit import FusionSetup
from indexer.passages import (Passage, article_sections, keyword_docs_for, passages_for, question_centroids,
                               section_record, word_counts)
from indexer.previous import PreviousBuild
from indexer.render import UNLINK, Renderer
from indexer.second_opinion import build_second_opinion, second_model_for
from kb.index import keyword as keyword_index
from kb.articles import Article
from kb.check import HelpCenter, load_help_center, resolve_link
from kb.config import Settings
from kb.embedding.encoders import LATIN_ONLY_MODELS, Encoder, load_encoder, query_path, resolve_model
from kb.errors import ArticleError, BuildError, EncoderError, IndexFormatError
from kb.index.checksums import checksums
from kb.index.layout import IndexFiles
from kb.index.links import ASSET_SCHEME, SCHEME, article_href, asset_href, asset_paths
from kb.index.manifest import AUDIENCES, Manifest
from kb.index.pages import PageText, write_pages
from kb.index.records import IndexedArticle, IndexedPassage
from kb.language import latin_only
from kb.translations import keyed, shared_id

# an encoder, or a function loading the encoder of a model name (called only when something must be embedded)
EncoderSource = Encoder | Callable[[str], Encoder] | None


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
    fusion: dict = field(default_factory=dict)  # per audience, the fitted fusion weights (Manifest.fusion)


def build_index(settings: Settings, encoder: EncoderSource = None, progress: bool | None = None,
                reuse_from: Path | None = None, include_drafts: bool = False,
                second_encoder: EncoderSource = None) -> BuildReport:
    """Build the index for settings.articles_dir into settings.index_dir.

    Embeddings, pages and models are reused from the index at settings.index_dir, or at `reuse_from` (e.g. the
    published index, for a throw-away build). `include_drafts` indexes drafts too: for previews only, never for
    the published index. `second_encoder` gives the second opinion on confidence (indexer/second_opinion.py; by
    default the model it names is loaded when needed).

    Raises ArticleError when the articles have errors (nothing is written). On any failure or interrupt the
    previous index stays in place.
    """
    started = time.perf_counter()
    center = load_help_center(settings.articles_dir, settings)
    if center.errors:
        raise ArticleError(center.problems)
    articles, translations, passages = indexed(center, settings, include_drafts)
    if not articles:
        raise BuildError(f"{settings.articles_dir}: no published articles to index")
    model_name = _model_name(settings, encoder, articles)
    get_encoder = _lazy(encoder, settings, model_name)
    second = (getattr(second_encoder, "name", None) if second_encoder is not None and settings.english_second_opinion
              else second_model_for(settings, model_name))
    second_source = (second, _lazy(second_encoder, settings, second)) if second else None
    with publish.build_lock(settings.index_dir):
        return _build(settings, center, articles, passages, model_name, get_encoder, progress, started, reuse_from,
                      translations, second_source)


def indexed(center: HelpCenter, settings: Settings, include_drafts: bool = False
            ) -> tuple[list[Article], dict[str, dict[str, str]], list[Passage]]:
    """What a build indexes, in index order: the articles (a translated article gets a key per language version,
    kb.translations), sorted by key; their translations; and their passages."""
    articles, translations = keyed(center.articles if include_drafts else center.published(), settings.default_lang)
    articles.sort(key=lambda a: a.id)
    return articles, translations, [p for a in articles for p in passages_for(a, settings.section_max_words)]


def _build(settings: Settings, center: HelpCenter, articles: list[Article], passages: list[Passage],
           model_name: str, get_encoder: Callable[[], Encoder], progress: bool | None,
           started: float, reuse_from: Path | None = None,
           translations: dict[str, dict[str, str]] | None = None,
           second_source: tuple[str, Callable[[], Encoder]] | None = None) -> BuildReport:
    previous = PreviousBuild.load(reuse_from or settings.index_dir, model_name)
    staging = publish.new_staging_dir(settings.index_dir)
    dirty = git_history.uncommitted(settings.articles_dir)
    commit = git_history.head(settings.articles_dir)
    try:
        show = progress if progress is not None else sys.stderr.isatty()
        embeddings, embedded, reused = embed_passages(passages, previous.embedding, get_encoder,
                                                      settings.embedding_batch_size, show)
        vector_kind = _write(staging, center, articles, passages, embeddings, previous, settings.exact_search_max,
                             translations or {}, dirty)
        models = train_audience_models(staging, articles, passages, embeddings, previous,
                                       lambda texts: get_encoder().encode_queries(texts),
                                       settings.confidence_false_positive_rate, translations or {},
                                       FusionSetup.of(settings),
                                       latin_only if model_name in LATIN_ONLY_MODELS else None,
                                       lambda texts: get_encoder().encode_passages(texts),
                                       query_path(model_name, settings.query_runtime))
        second = (build_second_opinion(staging, articles, passages, *second_source, previous.directory, settings,
                                       translations or {}, show) if second_source else {})
        manifest = Manifest(
            model_name=model_name, model_dimension=int(embeddings.shape[1]),
            built_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            articles={a.id: a.content_hash for a in articles},
            counts={"articles": len(articles), "passages": len(passages), "embedded": embedded, "reused": reused,
                    "drafts": len(center.articles) - len(articles),
                    "internal": sum(a.audience == "internal" for a in articles),
                    "categories": len(center.categories)},
            git={"commit": commit, "dirty": bool(dirty)} if commit else {}, languages=sorted({a.lang for a in articles}),
            vector_index=vector_kind, classifier=models["classifier"], confidence=models["confidence"],
            fusion=models["fusion"], second_opinion=second, files=checksums(staging),
        )
        manifest.write(staging)
        final = publish.publish(settings.index_dir, staging, settings.keep_builds)
    except OSError as exc:  # a full disk, a quota, a read-only folder: the previous index stays, say so plainly
        publish.discard(staging)
        where = f" ({exc.filename})" if exc.filename else ""
        raise BuildError(f"the index could not be written{where}: {exc.strerror or exc}; nothing was published and "
                         f"{settings.index_dir} is unchanged") from exc
    except BaseException:
        publish.discard(staging)
        raise
    return BuildReport(settings.index_dir, final, len(articles), len(passages), embedded, reused,
                       len(center.articles) - len(articles), time.perf_counter() - started, center.warnings,
                       manifest.fusion)


def _model_name(settings: Settings, encoder: EncoderSource, articles: list[Article]) -> str:
    name = getattr(encoder, "name", None)
    return name if isinstance(name, str) else resolve_model(settings.embedding_model, (a.lang for a in articles))


def _lazy(encoder: EncoderSource, settings: Settings, model_name: str) -> Callable[[], Encoder]:
    """The encoder is loaded only when something must be embedded: an unchanged rebuild never loads it."""
    loaded: list[Encoder] = []

    def get() -> Encoder:
        if not loaded:
            if encoder is None:
                loaded.append(load_encoder(model_name, settings.build_threads, settings.embedding_batch_size,
                                           settings.embedding_precision))
            elif callable(encoder) and not hasattr(encoder, "encode_passages"):
                loaded.append(encoder(model_name))
            else:
                loaded.append(encoder)  # type: ignore[arg-type]
            if loaded[0].name != model_name:
                raise EncoderError(f"the index is for model {model_name!r} but {loaded[0].name!r} was loaded")
        return loaded[0]
    return get


def _write(staging: Path, center: HelpCenter, articles: list[Article], passages: list[Passage],
           embeddings: np.ndarray, previous: PreviousBuild, exact_max: int,
           translations: dict[str, dict[str, str]], dirty: set[Path]) -> str:
    """Write every index file but the manifest and the models; returns the type of the vector index customers
    search. `dirty`: files with uncommitted changes."""
    files = IndexFiles(staging)
    _write_keyword(files.keyword, articles, previous)
    np.save(files.embeddings, embeddings)
    vector_kinds = write_partition_vectors(files.vectors, articles, passages, embeddings, exact_max)
    _write_json(files.passages, [IndexedPassage(p.article_id, p.anchor, p.heading, p.kind, p.hash).to_json()
                                 for p in passages])
    by_path = {a.path: a for a in articles}
    # A page's links depend on which articles exist where, and whom each is for: when that changes, every page is
    # rendered anew (and when the form links are stored in changes).
    links_key = hashlib.sha256(json.dumps([SCHEME, ASSET_SCHEME, sorted((a.path, a.id, a.audience) for a in articles)]
                                          ).encode("utf-8")).hexdigest()[:16]
    renderer = Renderer()
    root_prefix = "" if Path(center.root).as_posix() == "." else Path(center.root).as_posix().rstrip("/") + "/"
    paths = {a.id: Path(a.path).resolve() for a in articles}
    history = git_history.histories(center.root, list(paths.values()))

    def html_of(article: Article) -> str:
        def resolve(target: str) -> str | None:
            found = by_path.get(resolve_link(article.path, target))
            if article.audience == "public" and (found is None or found.audience != "public"):
                return UNLINK  # customers read its words, never the id of an article they may not see
            return article_href(found.id) if found else None

        def resolve_file(target: str) -> str | None:  # an image or file kept in the articles folder
            path = resolve_link(article.path, target)
            if not path.startswith(root_prefix) or path.startswith("../") or not (center.root / path[len(root_prefix):]).is_file():
                return None
            return asset_href(path[len(root_prefix):])
        cached = previous.html(article.id, article.content_hash, links_key)
        return cached if cached is not None else renderer.render(article.body, resolve, resolve_file)

    sections = {a.id: [section_record(s) for s in article_sections(a)] for a in articles}
    html = {a.id: html_of(a) for a in articles}
    texts = {key: tuple(s.pop("text") for s in records) for key, records in sections.items()}  # to pages.jsonl
    spans = write_pages(files.pages, ((a.id, PageText(html[a.id], texts[a.id])) for a in articles))
    _write_json(files.articles, {a.id: IndexedArticle(
        id=a.id, title=a.title, category=a.category, lang=a.lang, audience=a.audience, status=a.status,
        group=shared_id(a.id, translations[a.id]) if a.id in translations else a.id,
        translations=translations.get(a.id, {}), description=a.description, questions=list(a.questions),
        tags=list(a.tags), related=[r for r in a.related if r in paths], featured=a.featured, path=a.path,
        aliases=list(a.aliases),
        extra=json.loads(json.dumps(a.extra, default=str)), hash=a.content_hash, links_key=links_key,
        sections=sections[a.id], page=spans[a.id], files=sorted(asset_paths(html[a.id])),
        git=git_history.summary(paths[a.id], history.get(paths[a.id], []), paths[a.id] in dirty),
    ).to_json() for a in articles})
    _write_json(files.history, {a.id: [c.to_dict() for c in history.get(paths[a.id], [])]
                                           for a in articles})
    audience = category_audiences(center.categories, articles)
    _write_json(files.categories, {c.id: {"title": c.title, "description": c.description,
                                                     "audience": audience[c.id]}
                                              for c in center.categories.values()})
    for name, allowed in AUDIENCES.items():
        _write_json(files.words(name), word_counts(a for a in articles if a.audience in allowed))
    np.save(files.centroids, question_centroids(articles, passages, embeddings))
    return vector_kinds["public"]


def _write_keyword(directory: Path, articles: list[Article], previous: PreviousBuild) -> None:
    """Update a copy of the previous keyword index when most articles are unchanged; else index from scratch."""
    old = previous.article_hashes()
    changed = [a for a in articles if old.get(a.id) != a.content_hash]
    removed = set(old) - {a.id for a in articles}
    if previous.keyword_dir is not None and len(changed) + len(removed) <= len(articles) // 4:
        try:
            keyword_index.write_index(directory, (d for a in changed for d in keyword_docs_for(a)),
                                      previous=previous.keyword_dir,
                                      remove=sorted(removed | {a.id for a in changed if a.id in old}))
            return
        except IndexFormatError:  # the previous keyword index is unreadable: it only costs a full one
            shutil.rmtree(directory, ignore_errors=True)
    keyword_index.write_index(directory, (d for a in articles for d in keyword_docs_for(a)))


def _write_json(path: Path, data: object) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
