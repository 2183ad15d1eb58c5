"""What a build may reuse from the index it replaces: embeddings, rendered HTML, the keyword index, models."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from indexer import publish
from kb.errors import KbError
from kb.index.checksums import verify
from kb.index.layout import IndexFiles
from kb.index.manifest import FORMAT_VERSION, Manifest, read_manifest
from kb.index.pages import PageReader


@dataclass
class PreviousBuild:
    """The current index, if readable and built with the same model; empty otherwise (a full build)."""

    directory: Path | None = None
    manifest: Manifest | None = None
    rows: dict[str, int] = field(default_factory=dict)
    matrix: np.ndarray | None = None
    articles: dict[str, dict] = field(default_factory=dict)
    pages: PageReader | None = None

    @classmethod
    def load(cls, index_dir: Path, model_name: str) -> "PreviousBuild":
        current = publish.current_build(index_dir)
        if current is None:
            return cls()
        try:
            manifest = read_manifest(current, any_format=True)
            if manifest.model_name != model_name:
                return cls()
            verify(current, manifest.files)  # nothing damaged is carried into the next build
            files = IndexFiles(current)
            hashes = [p["hash"] for p in json.loads(files.passages.read_text(encoding="utf-8"))]
            matrix = np.load(files.embeddings, mmap_mode="r")
            if len(hashes) != len(matrix):
                return cls()
            rows = {h: i for i, h in enumerate(hashes)}
            if manifest.format_version != FORMAT_VERSION:  # after an upgrade of kb: its vectors alone are reused
                return cls(rows=rows, matrix=matrix)
            articles = json.loads(files.articles.read_text(encoding="utf-8"))
            pages = PageReader(files.pages)
        except (KbError, OSError, ValueError, KeyError, TypeError):
            return cls()  # an unreadable previous build only costs a full build
        return cls(current, manifest, rows, matrix, articles, pages)

    def embedding(self, passage_hash: str) -> np.ndarray | None:
        row = self.rows.get(passage_hash)
        return None if row is None or self.matrix is None else np.asarray(self.matrix[row])

    def article_hashes(self) -> dict[str, str]:
        return dict(self.manifest.articles) if self.manifest else {}

    def html(self, article_id: str, content_hash: str, links_key: str) -> str | None:
        """The rendered page of an unchanged article, when the links it could resolve are unchanged too."""
        old = self.articles.get(article_id)
        if not old or old.get("hash") != content_hash or old.get("links_key") != links_key or self.pages is None:
            return None
        try:
            return self.pages.text(*old["page"]).html
        except (KbError, KeyError, TypeError, ValueError):
            return None  # rendered anew

    @property
    def keyword_dir(self) -> Path | None:
        if self.directory is None or not IndexFiles(self.directory).keyword.is_dir():
            return None
        return IndexFiles(self.directory).keyword

    def models(self, audience: str, training_key: str) -> dict | None:
        """An audience's classifier file, its report, confidence curve and fitted fusion weights in the previous build,
        if trained on the same data."""
        if self.manifest is None or self.directory is None:
            return None
        report = self.manifest.classifier.get(audience)
        curve = self.manifest.confidence.get(audience)
        if not isinstance(report, dict) or report.get("training_key") != training_key or not isinstance(curve, dict):
            return None
        path = IndexFiles(self.directory).classifier(audience)
        fusion = self.manifest.fusion.get(audience, {})
        return {"classifier": path, "report": report, "confidence": curve, "fusion": fusion} if path.is_file() else None
