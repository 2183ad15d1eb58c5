"""The index folder's files, by name: the one place the indexer (which writes them), search (which reads them) and
the benches name them. The format version they follow is checked when the manifest is read (kb.index.manifest)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"  # read first, written last
ARTICLES = "articles.json"  # article id -> the indexed article (title, category, sections, where its page is, ...)
PAGES = "pages.jsonl"  # each article's rendered HTML and section texts, one line each (kb.index.pages)
CATEGORIES = "categories.json"  # category id -> title, description, audience
PASSAGES = "passages.json"  # one per vector row: article, kind, anchor, content hash
HISTORY = "history.json"  # article id -> the commits that touched its file
EMBEDDINGS = "embeddings.npy"  # every passage's vector, in passage order (reused by the next build)
CENTROIDS = "centroids.npy"  # each article's question centroid, in sorted article id order
KEYWORD = "keyword"  # the keyword index's folder (kb.index.keyword)
# Only in an index with a second opinion on confidence (the manifest's `second_opinion`): every passage's vector by
# that model, in passage order, and each article's question centroid by it, in sorted article id order.
SECOND_EMBEDDINGS = "second-embeddings.npy"
SECOND_CENTROIDS = "second-centroids.npy"
# ... and, per audience, the vectors of its own articles by that model (what a query's second opinion searches).
SECOND_VECTORS = "second-vectors-{audience}.faiss"
# Per audience (kb.index.manifest.AUDIENCES): what each audience's searches read.
WORDS = "words-{audience}.json"  # spelling vocabulary
CLASSIFIER = "classifier-{audience}.npz"  # category classifier
VECTORS = "vectors-{audience}.faiss"  # the vectors of that audience's own articles (disjoint per audience)
# Inside the keyword folder: each stored view's scores and what each of their columns is.
KEYWORD_VIEWS = {"public": ("impacts-public.npz", "docs-public.json"), "all": ("impacts.npz", "docs.json")}


@dataclass(frozen=True)
class IndexFiles:
    """The paths of an index folder's files."""

    directory: Path

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST

    @property
    def articles(self) -> Path:
        return self.directory / ARTICLES

    @property
    def pages(self) -> Path:
        return self.directory / PAGES

    @property
    def categories(self) -> Path:
        return self.directory / CATEGORIES

    @property
    def passages(self) -> Path:
        return self.directory / PASSAGES

    @property
    def history(self) -> Path:
        return self.directory / HISTORY

    @property
    def embeddings(self) -> Path:
        return self.directory / EMBEDDINGS

    @property
    def centroids(self) -> Path:
        return self.directory / CENTROIDS

    @property
    def second_embeddings(self) -> Path:
        return self.directory / SECOND_EMBEDDINGS

    @property
    def second_centroids(self) -> Path:
        return self.directory / SECOND_CENTROIDS

    def second_vectors(self, audience: str) -> Path:
        return self.directory / SECOND_VECTORS.format(audience=audience)

    @property
    def keyword(self) -> Path:
        return self.directory / KEYWORD

    def words(self, audience: str) -> Path:
        return self.directory / WORDS.format(audience=audience)

    def classifier(self, audience: str) -> Path:
        return self.directory / CLASSIFIER.format(audience=audience)

    def vectors(self, audience: str) -> Path:
        return self.directory / VECTORS.format(audience=audience)


def every_name(audiences: tuple[str, ...], second_opinion: bool = False) -> set[str]:
    """The names a complete index folder holds, for `audiences` (kb.index.manifest.AUDIENCES), with or without a
    second opinion on confidence."""
    per_audience = {pattern.format(audience=a) for pattern in (WORDS, CLASSIFIER, VECTORS) for a in audiences}
    second = ({SECOND_EMBEDDINGS, SECOND_CENTROIDS} | {SECOND_VECTORS.format(audience=a) for a in audiences}
              if second_opinion else set())
    return {MANIFEST, ARTICLES, PAGES, CATEGORIES, PASSAGES, HISTORY, EMBEDDINGS, CENTROIDS, KEYWORD} | per_audience | second
