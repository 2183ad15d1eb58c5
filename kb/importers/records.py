"""What every importer hands the shared writer: the pages of a site, its categories, and what it could not carry
over (each with the source file and line)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Notice:
    """Something of a source file that was not carried over as it was: where it is and what happened to it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class Page:
    """One source page, its body already in the Markdown kb renders (links still as the source wrote them)."""

    key: str  # stable across runs (the source path, without a language suffix): the same key updates one article
    source: str  # the file, relative to the source folder, with '/'
    slug: str  # the id it would like (ASCII)
    title: str
    category: str  # category id
    body: str
    body_line: int  # the source line the body starts at
    url: str  # its address on the old site (without the site's base path)
    base_dir: str  # the folder relative links and images are relative to (relative to the source folder)
    lang: str = ""  # empty: kb's default language
    draft: bool = False
    description: str = ""
    tags: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)  # other old addresses (redirects the old site had)
    addresses: list[str] = field(default_factory=list)  # more paths other pages may link to it by


@dataclass
class Site:
    """A help center read by one importer, ready for the writer."""

    format: str
    root: Path
    pages: list[Page]
    categories: dict[str, dict[str, str]]  # id -> {title, description}, in the source's order
    static_roots: list[str]  # folders (relative to root) a site-absolute file path such as /img/a.png may be in
    base_path: str = ""  # the path the old site lived under (Jekyll's baseurl, Hugo's baseURL path)
    site_url: str = ""  # its absolute address, so links written in full are recognised as internal
    notices: list[Notice] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (source file, reason)


@dataclass
class ImportSummary:
    """What `kb import` did (or, with --dry-run, would do)."""

    format: str
    source: str
    articles_dir: str
    dry_run: bool
    imported: list[str] = field(default_factory=list)  # new article files
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {path, reason}
    links_rewritten: int = 0
    links_broken: int = 0
    assets_copied: int = 0
    categories_added: list[str] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"format": self.format, "source": self.source, "articles_dir": self.articles_dir,
                "dry_run": self.dry_run, "imported": len(self.imported), "updated": len(self.updated),
                "unchanged": len(self.unchanged), "skipped": self.skipped, "links_rewritten": self.links_rewritten,
                "links_broken": self.links_broken, "assets_copied": self.assets_copied,
                "categories_added": self.categories_added, "files": {"imported": self.imported,
                                                                     "updated": self.updated},
                "notices": [{"path": n.path, "line": n.line, "message": n.message} for n in self.notices]}
