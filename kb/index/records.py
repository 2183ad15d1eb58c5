"""What an index folder holds per article (articles.json; its text is in pages.jsonl, kb.index.pages) and per
passage (passages.json): written by the indexer, read by search. JSON keys are the field names."""
from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, field, fields
from typing import Any

from kb.errors import IndexFormatError


@dataclass(frozen=True)
class IndexedPassage:
    """One vector row: a piece of an article (its summary, a question, a section) and where it points."""

    article: str  # the article's id
    anchor: str  # the section's anchor ('' for the article's top)
    heading: str
    kind: str  # 'summary', 'question' or 'section'
    hash: str  # content hash of the embedded text: a later build reuses its vector

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, where: str) -> "IndexedPassage":
        return cls(**_fields_of(cls, data, where))


@dataclass(frozen=True)
class IndexedArticle:
    """An article as built: what search ranks and shows, and what the portal's pages show."""

    id: str
    title: str
    category: str
    lang: str
    audience: str  # 'public' or 'internal'
    status: str
    group: str  # the id its translations share
    translations: dict[str, str]  # language -> article id, every version's (empty when there is one)
    description: str
    questions: list[str]
    tags: list[str]
    related: list[str]
    featured: bool
    path: str
    hash: str  # content hash of the article's file
    links_key: str  # which articles its rendered links were resolved against
    sections: list[dict[str, str]]  # anchor, heading, path (enclosing headings and its own, ' › '-joined)
    page: list[int]  # [offset, length] of its HTML and section texts in pages.jsonl (kb.index.pages)
    files: list[str]  # the articles folder's files its page shows or links to (kb.index.links.asset_paths)
    extra: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)  # old addresses the portal redirects here

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any, where: str) -> "IndexedArticle":
        return cls(**_fields_of(cls, data, where))


def _fields_of(cls: type, data: Any, where: str) -> dict[str, Any]:
    """The fields of `cls` from `data`, or an IndexFormatError naming `where` and the missing fields."""
    names = [f.name for f in fields(cls)]
    if not isinstance(data, dict):
        raise IndexFormatError(f"{where}: not an object; rebuild the index")
    required = {f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING}
    missing = sorted(required - data.keys())
    if missing:
        raise IndexFormatError(f"{where}: missing {', '.join(missing)}; rebuild the index")
    return {name: data[name] for name in names if name in data}
