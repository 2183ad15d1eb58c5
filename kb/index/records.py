"""What an index folder holds per article (articles.json; its text is in pages.jsonl, kb.index.pages) and per
passage (passages.json): written by the indexer, read by search. JSON keys are the field names."""
from __future__ import annotations

import sys
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from typing import Any, Iterator, Mapping

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


class SectionHead(Mapping[str, str]):
    """A section of an indexed article as a loaded index holds it: read as the mapping articles.json stores
    (`s["anchor"]`, `s["heading"]`, `s["path"]`), in about a third of a dict's memory (10,000 articles hold some
    76,000 sections), its strings shared with every equal one."""

    __slots__ = ("anchor", "heading", "path")
    KEYS = ("anchor", "heading", "path")

    def __init__(self, anchor: str, heading: str, path: str) -> None:
        self.anchor, self.heading = sys.intern(anchor), sys.intern(heading)
        self.path = self.heading if path == heading else sys.intern(path)

    @classmethod
    def from_json(cls, data: Any, where: str) -> "SectionHead":
        if not isinstance(data, dict) or not all(isinstance(data.get(key), str) for key in cls.KEYS):
            raise IndexFormatError(f"{where}: a section without {', '.join(cls.KEYS)}; rebuild the index")
        return cls(data["anchor"], data["heading"], data["path"])

    def __getitem__(self, key: str) -> str:
        if key not in self.KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.KEYS)

    def __len__(self) -> int:
        return len(self.KEYS)

    def __repr__(self) -> str:
        return repr(dict(self))


@dataclass(frozen=True, slots=True)
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
    sections: list[Mapping[str, str]]  # anchor, heading, path (enclosing headings and its own, ' › '-joined)
    page: list[int]  # [offset, length] of its HTML and section texts in pages.jsonl (kb.index.pages)
    files: list[str]  # the articles folder's files its page shows or links to (kb.index.links.asset_paths)
    extra: dict[str, Any] = field(default_factory=dict)
    git: dict[str, Any] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)  # old addresses the portal redirects here

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "sections": [dict(s) for s in self.sections]}

    def within(self, visible: Mapping[str, Any]) -> "IndexedArticle":
        """This article naming only `visible` articles as related and as translations (itself when it names no
        other)."""
        if all(r in visible for r in self.related) and all(k in visible for k in self.translations.values()):
            return self
        return replace(self, related=[r for r in self.related if r in visible],
                       translations={lang: k for lang, k in self.translations.items() if k in visible})

    @classmethod
    def from_json(cls, data: Any, where: str) -> "IndexedArticle":
        """The record, its sections as SectionHead and the strings many articles repeat shared."""
        found = _fields_of(cls, data, where)
        if not isinstance(found["sections"], list):
            raise IndexFormatError(f"{where}: sections are not a list; rebuild the index")
        found["sections"] = [SectionHead.from_json(s, where) for s in found["sections"]]
        for name in ("category", "lang", "audience", "status", "links_key"):
            if isinstance(found[name], str):
                found[name] = sys.intern(found[name])
        if isinstance(found.get("tags"), list):
            found["tags"] = [sys.intern(t) if isinstance(t, str) else t for t in found["tags"]]
        return cls(**found)


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
