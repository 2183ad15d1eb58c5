"""The shared half of `kb import`: ids that stay the same run after run, links between pages rewritten to kb's
relative article links, images and files copied into the articles' assets folder, old addresses kept as
`aliases`, FAQ questions, categories.yml merged, and every article file written only when it changed."""
from __future__ import annotations

import json
import posixpath
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from kb.articles import normalise_alias
from kb.importers.records import ImportSummary, Notice, Page, Site
from kb.importers.sources import dump_yaml, safe_id

ASSETS = "assets"  # the folder next to the articles that imported images and files go to
STATE = ".import"  # per format, which source page became which article (hidden: kb check skips it)
FILE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".pdf", ".zip", ".txt",
                 ".csv", ".mp4", ".webm", ".doc", ".docx", ".xls", ".xlsx", ".pptx", ".odt", ".ods"}
_PAGE_SUFFIXES = (".md", ".mdx", ".markdown", ".html", ".htm")
# [text](target "title"), ![alt](target), and reference definitions `[id]: target`.
_INLINE = re.compile(r"(!?\[(?:[^\[\]]|\[[^\]]*\])*\]\()\s*(<[^>]*>|[^)\s]+)((?:\s+\"[^\"]*\")?\s*\))")
_REFERENCE = re.compile(r"^( {0,3}\[[^\]]+\]:\s*)(<[^>]*>|\S+)(.*)$")
# a raw HTML image, source or link: its src or href, in either quotes
_HTML_SRC = re.compile(r"""(<(?:img|source|a)\b[^>]*?)(\b(?:src|href)\s*=\s*(["']))(.+?)(\3)""", re.I)
_QUESTION = re.compile(r"^#{1,6}\s+Q:\s*(.+?)\s*#*\s*$", re.I)


def norm(path: str) -> str:
    """One form for every way a page's address may be written: no extension, index page or trailing slash."""
    path = normalise_alias(posixpath.normpath("/" + unquote(path).lstrip("/")) + ("/" if path.endswith("/") else ""))
    for suffix in _PAGE_SUFFIXES:
        if path.endswith(suffix):
            path = path[:-len(suffix)]
    for index in ("/index", "/_index", "/README"):
        if path.endswith(index):
            path = path[:-len(index)] or "/"
    return path or "/"


@dataclass
class _Out:
    page: Page
    id: str
    path: str  # relative to the articles folder


class _Writer:
    def __init__(self, site: Site, articles: Path, dry_run: bool, default_lang: str) -> None:
        self.site, self.articles, self.dry_run, self.default_lang = site, articles, dry_run, default_lang
        self.summary = ImportSummary(site.format, str(site.root), str(articles), dry_run)
        self.summary.notices.extend(site.notices)
        self.summary.skipped.extend({"path": p, "reason": r} for p, r in site.skipped)
        self.state_file = articles / STATE / f"{site.format}.json"
        self.copied: dict[Path, str] = {}
        self.found: dict[str, Path | None] = {}
        self.root = site.root.resolve()

    def notice(self, page: Page, line: int, message: str) -> None:
        self.summary.notices.append(Notice(page.source, line, message))

    # ids and files ------------------------------------------------------------------------------------------
    def assign(self) -> list[_Out]:
        """Each page's id and file: as the last run chose them, else its slug, made unique where taken."""
        try:
            state = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {}
        known = state.get("ids", {}) if isinstance(state, dict) else {}
        ours = {str(p) for p in (state.get("files", {}) if isinstance(state, dict) else {}).values()}
        taken = {f.stem.split(".")[0] for f in self.articles.rglob("*.md")
                 if f.relative_to(self.articles).as_posix() not in ours} if self.articles.is_dir() else set()
        taken |= {i for k, i in known.items() if k not in {p.key for p in self.site.pages}}
        ids: dict[str, str] = {}
        # (a translated article's id is its default-language version's slug)
        for page in sorted(self.site.pages, key=lambda p: (p.key not in known, p.key.count("/"), p.key,
                                                           (p.lang or self.default_lang) != self.default_lang)):
            if page.key in ids:
                continue
            wanted = known.get(page.key)
            if not wanted:
                wanted = page.slug
                if wanted in taken:  # a duplicate slug: qualified by its folder, then numbered
                    folder = safe_id(posixpath.basename(posixpath.dirname(page.key)), "")
                    wanted = f"{folder}-{page.slug}" if folder and not page.slug.startswith(folder) else page.slug
                    n = 2
                    base = wanted
                    while wanted in taken:
                        wanted, n = f"{base}-{n}", n + 1
            ids[page.key] = wanted
            taken.add(wanted)
        outs = []
        for page in self.site.pages:
            name = ids[page.key] + (f".{page.lang}" if page.lang and page.lang != self.default_lang else "")
            outs.append(_Out(page, ids[page.key], f"{page.category}/{name}.md"))
        self.previous_files = state.get("files", {}) if isinstance(state, dict) else {}
        self.ids = ids
        return outs

    # links ---------------------------------------------------------------------------------------------------
    def address_book(self, outs: list[_Out]) -> dict[str, _Out]:
        book: dict[str, _Out] = {}
        for out in outs:
            page = out.page
            for address in ("/" + page.source, page.url, *page.addresses, *page.aliases):
                book.setdefault(norm(address), out)
        return book

    def internal_path(self, target: str) -> str | None:
        """The site path of a link target that points into the old site, None for another site's."""
        if target.startswith("//") or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            if self.site.site_url and target.startswith(self.site.site_url.rstrip("/") + "/"):
                return urlsplit(target).path
            return None
        return target

    def strip_base(self, path: str) -> str:
        base = self.site.base_path.rstrip("/")
        return path[len(base):] or "/" if base and (path == base or path.startswith(base + "/")) else path

    def find_file(self, page: Page, path: str) -> Path | None:
        key = (path if path.startswith("/") else posixpath.join(page.base_dir, path))
        if key not in self.found:
            self.found[key] = self._find_file(page, path)
        return self.found[key]

    def _find_file(self, page: Page, path: str) -> Path | None:
        root = self.site.root
        if path.startswith("/"):
            candidates = [root / r / self.strip_base(path).lstrip("/") for r in self.site.static_roots]
        else:
            candidates = [root / page.base_dir / path]
        for candidate in candidates:
            try:
                resolved = candidate.resolve()
                resolved.relative_to(self.root)  # never a file outside the source
            except (OSError, ValueError):
                continue
            if resolved.is_file():
                return resolved
        return None

    def copy_asset(self, source: Path) -> str:
        """The asset's path in the articles folder (copied once per run)."""
        if source not in self.copied:
            rel = source.relative_to(self.root)
            for root in self.site.static_roots:  # /static/img/a.png is served as /img/a.png: keep that shape
                if root and rel.parts[:len(Path(root).parts)] == Path(root).parts:
                    rel = rel.relative_to(root)
                    break
            if rel.parts[0] == ASSETS and len(rel.parts) > 1:  # the site's own assets folder: not assets/assets
                rel = rel.relative_to(ASSETS)
            parts = [safe_id(Path(p).stem, "file") + Path(p).suffix.lower() if i == len(rel.parts) - 1
                     else safe_id(p, "files") for i, p in enumerate(rel.parts)]
            dest = posixpath.join(ASSETS, *parts)
            self.copied[source] = dest
            target = self.articles / dest
            if not target.is_file() or target.read_bytes() != source.read_bytes():
                self.summary.assets_copied += 1
                if not self.dry_run:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(source, target)
        return self.copied[source]

    def rewrite(self, out: _Out, target: str, line: int, book: dict[str, _Out]) -> str | None:
        """The new target of one link or image, None to keep it, '' to keep only its text."""
        page = out.page
        bare = target[1:-1] if target.startswith("<") and target.endswith(">") else target
        path = self.internal_path(bare)
        if path is None or not path or path.startswith(("#", "?")):
            return None
        path, _, anchor = path.partition("#")
        path = path.partition("?")[0]
        here = posixpath.dirname(out.path)
        if posixpath.splitext(path)[1].lower() in FILE_SUFFIXES:
            found = self.find_file(page, unquote(path))
            if found is None:
                self.summary.links_broken += 1
                self.notice(page, line, f"file '{bare}' not found in the source; the link is kept as written")
                return None
            return posixpath.relpath(self.copy_asset(found), here)
        if path.startswith("/"):
            keys = [norm(self.strip_base(path)), norm(path)]
        else:
            keys = [norm("/" + posixpath.join(page.base_dir, path)),
                    norm(posixpath.join(page.url if page.url.endswith("/") else posixpath.dirname(page.url) + "/",
                                        path))]
        found_out = next((book[k] for k in keys if k in book), None)
        if found_out is None:
            self.summary.links_broken += 1
            if path.endswith((".md", ".mdx")):
                self.notice(page, line, f"link to '{bare}': no such page in the source; only its text is kept")
                return ""
            self.notice(page, line, f"link to '{bare}': no such page in the source; kept as written")
            return None
        self.summary.links_rewritten += 1
        return posixpath.relpath(found_out.path, here) + (f"#{anchor}" if anchor else "")

    def convert_body(self, out: _Out, book: dict[str, _Out]) -> tuple[str, list[str]]:
        """The body with its links rewritten, and the questions of its `Q:` headings."""
        lines, questions, fence = out.page.body.splitlines(keepends=True), [], ""
        for i, line in enumerate(lines):
            stripped = line.lstrip()
            if stripped.startswith(("```", "~~~")):
                fence = "" if fence and stripped.startswith(fence) else (fence or stripped[:3])
                continue
            if fence:
                continue
            where = out.page.body_line + i
            question = _QUESTION.match(line)
            if question:
                questions.append(question.group(1))

            def inline(m: re.Match) -> str:
                new = self.rewrite(out, m.group(2), where, book)
                if new is None:
                    return m.group(0)
                if new == "":
                    return m.group(1)[1:-2] if not m.group(1).startswith("!") else m.group(1)[2:-2]
                return f"{m.group(1)}{new}{m.group(3)}"

            def html_src(m: re.Match) -> str:  # a link to a missing page loses its href: its text stays
                new = self.rewrite(out, m.group(4), where, book)
                if new is None:
                    return m.group(0)
                return m.group(1).rstrip() if new == "" else f"{m.group(1)}{m.group(2)}{new}{m.group(5)}"

            reference = _REFERENCE.match(line.rstrip("\n"))
            if reference:
                new = self.rewrite(out, reference.group(2), where, book)
                if new is not None:
                    lines[i] = f"{reference.group(1)}{new or '#'}{reference.group(3)}\n"
                continue
            lines[i] = _HTML_SRC.sub(html_src, _INLINE.sub(inline, line))
        return "".join(lines), questions

    # files ---------------------------------------------------------------------------------------------------
    def front_matter(self, out: _Out, questions: list[str]) -> dict[str, Any]:
        page = out.page
        data: dict[str, Any] = {"title": page.title, "id": out.id, "category": page.category}
        if page.lang:
            data["lang"] = page.lang
        if page.draft:
            data["status"] = "draft"
        if page.audience:
            data["audience"] = page.audience
        if page.description:
            data["description"] = page.description
        if page.tags:
            data["tags"] = list(dict.fromkeys(page.tags))
        if questions:
            data["questions"] = questions
        base = self.site.base_path.rstrip("/")
        aliases = [normalise_alias(base + a if a.startswith("/") else a)
                   for a in (page.url, *page.aliases) if a and a.startswith("/")]
        aliases = [a for a in dict.fromkeys(aliases) if a != "/"]
        if aliases:
            data["aliases"] = aliases
        return data

    def write(self, path: Path, text: str) -> str:
        """'imported', 'updated' or 'unchanged' (written unless a dry run)."""
        try:
            old = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            old = None
        if old == text:
            return "unchanged"
        if not self.dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return "imported" if old is None else "updated"

    def categories(self) -> None:
        path = self.articles / "categories.yml"
        try:
            existing = yaml.safe_load(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            existing = None
        if not isinstance(existing, dict):
            existing = {}
        used = {p.category for p in self.site.pages}
        added = {k: {key: v for key, v in c.items() if v} for k, c in self.site.categories.items()
                 if k in used and k not in existing}
        if not added:
            return
        self.summary.categories_added = list(added)
        if not self.dry_run:
            self.articles.mkdir(parents=True, exist_ok=True)
            path.write_text(dump_yaml({**existing, **added}), encoding="utf-8")

    def run(self) -> ImportSummary:
        outs = self.assign()
        book = self.address_book(outs)
        files: dict[str, str] = {}
        for out in sorted(outs, key=lambda o: o.path):
            body, questions = self.convert_body(out, book)
            if not body.strip():
                self.summary.skipped.append({"path": out.page.source, "reason": "no text in its body"})
                continue
            front = dump_yaml(self.front_matter(out, questions))
            state = self.write(self.articles / out.path, f"---\n{front}---\n\n{body.strip()}\n")
            getattr(self.summary, state).append(out.path)
            files[f"{out.page.key}|{out.page.lang}"] = out.path
            moved = self.previous_files.get(f"{out.page.key}|{out.page.lang}")
            if moved and moved != out.path and (self.articles / moved).is_file() and not self.dry_run:
                (self.articles / moved).unlink()  # its category changed: the old file would be a duplicate
        self.categories()
        self.summary.notices.sort(key=lambda n: (n.path, n.line))
        if not self.dry_run:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            self.state_file.write_text(json.dumps({"ids": self.ids, "files": files}, indent=1, sort_keys=True),
                                       encoding="utf-8")
        return self.summary


def write_site(site: Site, articles: Path, dry_run: bool = False, default_lang: str = "en") -> ImportSummary:
    """Write `site`'s pages into the articles folder `articles` (nothing with `dry_run`) and say what changed.
    A page in another language than `default_lang` is written as `<id>.<lang>.md`."""
    return _Writer(site, articles, dry_run, default_lang).run()
