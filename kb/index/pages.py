"""Article pages: each article's rendered HTML and the text of each of its sections, in pages.jsonl (one JSON line
per article), read by byte range (articles.json's `page`) when a page or a snippet is shown. A serving process
then holds the articles' records, not their text: at 10,000 articles that is over 100 MiB less per worker.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import BinaryIO, Iterable, Mapping

from kb.errors import IndexFormatError
from kb.index.records import IndexedArticle

CACHED_PAGES = 256  # pages kept parsed per process: those of the most searched articles


@dataclass(frozen=True)
class PageText:
    """What pages.jsonl holds per article."""

    html: str  # sanitised; links to other articles by id (kb.index.links)
    texts: tuple[str, ...]  # each section's text, in the order of the record's sections


@dataclass(frozen=True)
class ArticlePage:
    """An article with its text: what its page, its snippets and its summaries are made from."""

    meta: IndexedArticle
    html: str
    sections: tuple[dict[str, str], ...]  # the record's sections, each with its `text`


def write_pages(path: Path, pages: Iterable[tuple[str, PageText]]) -> dict[str, list[int]]:
    """Write `pages` (article id, text) to `path`; returns each article's [offset, length] in it."""
    spans: dict[str, list[int]] = {}
    offset = 0
    with open(path, "wb") as handle:
        for key, page in pages:
            line = json.dumps({"html": page.html, "texts": list(page.texts)}, ensure_ascii=False).encode("utf-8")
            handle.write(line + b"\n")
            spans[key] = [offset, len(line)]
            offset += len(line) + 1
    return spans


class PageReader:
    """Pages read from one pages.jsonl, the most recent CACHED_PAGES kept parsed. The file stays readable while
    open, when a newer build replaces it."""

    def __init__(self, path: Path) -> None:
        try:
            self._file = open(path, "rb")
        except OSError as exc:
            raise IndexFormatError(f"{path}: cannot be read ({exc.strerror}); rebuild the index") from None
        self.path = path
        self._size = os.fstat(self._file.fileno()).st_size
        # (a function of the file, not of self: the reader, once dropped, is freed and its file closed at once)
        self.text = lru_cache(maxsize=CACHED_PAGES)(partial(_read, self._file, path))

    def check(self, articles: Mapping[str, IndexedArticle]) -> None:
        """IndexFormatError naming the first article whose page lies outside the file."""
        for key, meta in articles.items():
            if len(meta.page) != 2 or meta.page[0] < 0 or meta.page[1] < 0 or sum(meta.page) > self._size:
                raise IndexFormatError(f"{self.path}: no page {meta.page} for article {key!r} in "
                                       f"{self._size} bytes; rebuild the index")

    def page(self, meta: IndexedArticle) -> ArticlePage:
        text = self.text(*meta.page)
        if len(text.texts) != len(meta.sections):
            raise IndexFormatError(f"{self.path}: {len(text.texts)} section texts for the {len(meta.sections)} "
                                   f"sections of {meta.id!r}; rebuild the index")
        return ArticlePage(meta, text.html, tuple({**s, "text": t} for s, t in zip(meta.sections, text.texts)))


def _read(file: BinaryIO, path: Path, offset: int, length: int) -> PageText:
    data = os.pread(file.fileno(), length, offset)
    try:
        page = json.loads(data.decode("utf-8")) if len(data) == length else None
        html, texts = page["html"], tuple(page["texts"])
        if isinstance(html, str) and all(isinstance(t, str) for t in texts):
            return PageText(html, texts)
    except (ValueError, KeyError, TypeError):
        pass
    raise IndexFormatError(f"{path}: no page at bytes {offset}–{offset + length}; rebuild the index")
