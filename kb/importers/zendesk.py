"""Zendesk Guide: a folder of the Help Center API's JSON (`categories.json`, `sections.json`, `articles.json` or its
pages `articles-1.json`..., and per locale `<locale>/articles.json` or `translations.json`). Sections become kb
categories, `label_names` tags, the `html_url` path an alias; the HTML body becomes Markdown (markdownify), links to
other articles (`/hc/<locale>/articles/<id>-slug`) article links, and attachments found in `attachments/<id>/` are
copied. Pages are named `articles/<id>`; a notice's line is the line of the converted Markdown body."""
from __future__ import annotations

import json
import posixpath
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from markdownify import markdownify

from kb.errors import KbError
from kb.importers.records import Notice, Page, Site
from kb.importers.sources import read_text, safe_id, text, texts
from kb.importers.writer import FILE_SUFFIXES

ATTACHMENTS = "attachments"
_ARTICLE_URL = re.compile(r"^(?:https?://[^/]+)?/hc/(?:[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})?/)?articles/(\d+)"
                          r"[^?#]*(?:\?[^#]*)?(#.*)?$")
_ATTACHMENT_URL = re.compile(r"/(?:hc/)?article_attachments/(\d+)(?:/([^/?#]+))?")
_TOKEN_URL = re.compile(r"/attachments/token/[^/]+/?$")
_URL_ATTR = re.compile(r"((?<![\w-])(?:href|src)\s*=\s*)([\"'])(.*?)\2", re.I | re.S)
_LOST = re.compile(r"<(iframe|script|video|audio|object|embed|form)\b", re.I)


def load_records(root: Path, name: str, notices: list[Notice]) -> list[tuple[str, dict[str, Any]]]:
    """(file, record) for each record under the key `name` of every `<name>.json` / `<name>-N.json` in `root`
    and its subfolders, in file order (pages in their number's order)."""
    pattern = re.compile(rf"^{name}(?:-(\d+))?\.json$")
    files = [p for p in root.rglob("*.json") if pattern.match(p.name) and ATTACHMENTS not in
             p.relative_to(root).parts[:-1]]
    files.sort(key=lambda p: (len(p.relative_to(root).parts), str(p.parent),
                              int(pattern.match(p.name).group(1) or 0)))
    found = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            data = json.loads(read_text(path, rel, notices))
        except ValueError as exc:
            raise KbError(f"{path}: not the Help Center API's JSON ({exc})") from None
        records = data.get(name) if isinstance(data, dict) else None
        if not isinstance(records, list):
            notices.append(Notice(rel, 1, f"no '{name}' list in the file; skipped"))
            continue
        found += [(rel, r) for r in records if isinstance(r, dict) and r.get("id") is not None]
    return found


def language(locale: str) -> str:
    """kb's language code for a Zendesk locale: 'en-us' -> 'en', 'pt-br' -> 'pt'."""
    return locale.lower().split("-")[0]


def place_sections(categories: list[dict[str, Any]], sections: list[dict[str, Any]]
                   ) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(section id -> kb category id, kb categories): one kb category per top-level section (a nested section's
    articles go to its top section), its id from its name, qualified by its Zendesk category's when two share it."""
    by_category = {str(c["id"]): c for c in categories if isinstance(c, dict) and "id" in c}
    by_section = {str(s["id"]): s for s in sections}

    def top(section: dict[str, Any]) -> dict[str, Any]:
        seen = set()
        while section.get("parent_section_id") and str(section["parent_section_id"]) in by_section \
                and section["id"] not in seen:
            seen.add(section["id"])
            section = by_section[str(section["parent_section_id"])]
        return section

    tops = [s for s in sections if top(s) is s]
    tops.sort(key=lambda s: (by_category.get(str(s.get("category_id")), {}).get("position", 0),
                             str(s.get("category_id")), s.get("position", 0)))
    names = Counter(safe_id(text(s.get("name")), "general") for s in tops)
    several = len({str(s.get("category_id")) for s in tops}) > 1
    ids: dict[str, str] = {}
    found: dict[str, dict[str, str]] = {}
    for section in tops:
        name = text(section.get("name")) or "General"
        category = text(by_category.get(str(section.get("category_id")), {}).get("name"))
        kb_id = safe_id(name, "general")
        if names[kb_id] > 1 and category:
            kb_id = safe_id(f"{category} {name}", "general")
        kb_id = next(f"{kb_id}-{n}" if n else kb_id for n in range(len(tops) + 1)
                     if (f"{kb_id}-{n}" if n else kb_id) not in found)
        found[kb_id] = {"title": f"{category}: {name}" if several and category else name,
                        "description": text(section.get("description"))}
        ids[str(section["id"])] = kb_id
    for section in sections:
        ids[str(section["id"])] = ids[str(top(section)["id"])]
    return ids, found


class _Body:
    """One article's HTML made Markdown, with its links and attachments pointed where the writer finds them."""

    def __init__(self, root: Path, site_url: str, known: set[str], source: str, notices: list[Notice]) -> None:
        self.root, self.site_url, self.known, self.source, self.notices = root, site_url, known, source, notices

    def attachment(self, url: str) -> str | None:
        """The site path of the attachment `url` names when the export holds it."""
        parts = urlsplit(url)
        match = _ATTACHMENT_URL.search(parts.path)
        if match:
            folder, name = self.root / ATTACHMENTS / match.group(1), unquote(match.group(2) or "")
        elif _TOKEN_URL.search(parts.path):
            folder, name = None, (parse_qs(parts.query).get("name") or [""])[0]
        else:
            return None
        candidates = [folder] if folder is not None else \
            sorted(p for p in (self.root / ATTACHMENTS).glob("*") if p.is_dir())
        for candidate in candidates:
            if not candidate.is_dir():
                continue
            files = sorted(p for p in candidate.iterdir() if p.is_file())
            chosen = next((p for p in files if p.name == name), None)
            if chosen is None and not name and len(files) == 1:
                chosen = files[0]
            if chosen is not None:
                return "/" + quote(chosen.relative_to(self.root).as_posix())
        return ""

    def url(self, url: str, line: int) -> str:
        """Where the writer should find what `url` names; what it cannot find there (an article or a file of the
        old help center) it reports, the rest is reported here."""
        article = _ARTICLE_URL.match(url.strip())
        if article:
            return f"/hc/articles/{article.group(1)}{article.group(2) or ''}" if article.group(1) in self.known \
                else url
        local = self.attachment(url)
        if local:
            return local
        parts = urlsplit(url)
        seen_by_writer = (not parts.netloc or url.startswith(self.site_url + "/")) and \
            posixpath.splitext(parts.path)[1].lower() in FILE_SUFFIXES
        if local == "" and not seen_by_writer:
            self.notices.append(Notice(self.source, line, f"attachment '{url}' is not in the export folder "
                                                          f"({ATTACHMENTS}/<id>/); it still points to the old "
                                                          "help center"))
        return url

    def convert(self, html: str) -> str:
        markdown = markdownify(_URL_ATTR.sub(lambda m: f"{m.group(1)}{m.group(2)}\x00{m.group(3)}\x00{m.group(2)}",
                                             html), heading_style="ATX", bullets="-", escape_underscores=False,
                               escape_asterisks=False)
        lines = markdown.splitlines(keepends=True)
        for i, line in enumerate(lines):
            lines[i] = re.sub(r"\x00(.*?)\x00", lambda m: self.url(m.group(1), i + 1), line)
        for lost in _LOST.finditer(html):
            self.notices.append(Notice(self.source, 1, f"<{lost.group(1).lower()}> is not carried over (left out "
                                                       "of the article)"))
        return re.sub(r"\n{3,}", "\n\n", "".join(lines)).strip() + "\n"


def read_site(root: Path) -> Site:
    """Every article (and translation) of the Zendesk Guide export in `root`."""
    site = Site("zendesk", root, [], {}, [""])
    categories = [r for _, r in load_records(root, "categories", site.notices)]
    sections = [r for _, r in load_records(root, "sections", site.notices)]
    articles = load_records(root, "articles", site.notices)
    translations = load_records(root, "translations", site.notices)
    section_ids, site.categories = place_sections(categories, sections)
    sources: dict[str, tuple[str, dict[str, Any]]] = {}
    for rel, record in articles:
        sources.setdefault(str(record["id"]), (rel, record))
    locales = Counter(text(r.get("source_locale")) or text(r.get("locale")) for _, r in sources.values())
    main_locale = locales.most_common(1)[0][0] if locales else ""
    versions: dict[tuple[str, str], tuple[str, dict[str, Any], dict[str, Any]]] = {}
    for rel, record in articles:
        article_id = str(record["id"])
        versions.setdefault((article_id, text(record.get("locale")) or main_locale),
                            (rel, record, sources[article_id][1]))
    for rel, record in translations:
        source = sources.get(str(record.get("source_id")))
        if source is None or (record.get("source_type") or "Article") != "Article":
            if record.get("source_type") in (None, "Article"):
                site.notices.append(Notice(rel, 1, f"translation {record['id']} of article "
                                                   f"{record.get('source_id')}: the article is not in the export"))
            continue
        versions.setdefault((str(record["source_id"]), text(record.get("locale"))), (rel, record, source[1]))
    known = set(sources)
    hosts = Counter(f"{u.scheme}://{u.netloc}" for u in (urlsplit(text(r.get("html_url"))) for _, r in articles)
                    if u.netloc)
    site.site_url = hosts.most_common(1)[0][0] if hosts else ""
    for (article_id, locale), (rel, record, original) in versions.items():
        page = _page(site, rel, article_id, locale, record, original, section_ids, known)
        if page is not None:
            site.pages.append(page)
    first: dict[str, str] = {}
    for page in sorted(site.pages, key=lambda p: int(p.key.split("/")[1])):
        # two articles of one title: the later one qualified by its category, whose name tells them apart
        if first.setdefault(page.slug, page.key) != page.key and not page.slug.startswith(page.category):
            page.slug = f"{page.category}-{page.slug}"
    return site


def _page(site: Site, rel: str, article_id: str, locale: str, record: dict[str, Any], original: dict[str, Any],
          section_ids: dict[str, str], known: set[str]) -> Page | None:
    source = f"{rel}#{article_id}" + (f"/{locale}" if locale != text(original.get("locale")) else "")
    if record.get("body") is None or not text(record.get("title")):
        site.skipped.append((source, "no title or body"))
        return None
    category = section_ids.get(str(original.get("section_id")))
    if category is None:
        category = "general"
        site.categories.setdefault("general", {"title": "General", "description": ""})
        site.notices.append(Notice(source, 1, f"section {original.get('section_id')} is not in sections.json; the "
                                              "article goes to 'general'"))
    path = urlsplit(text(record.get("html_url"))).path
    lang = language(locale) if locale else ""
    slug_title = text(original.get("title"))
    body = _Body(site.root, site.site_url, known, source, site.notices).convert(str(record.get("body") or ""))
    restricted = original.get("user_segment_id") is not None
    if restricted:
        site.notices.append(Notice(source, 1, f"visible to user segment {original['user_segment_id']} only on "
                                              "Zendesk: imported with 'audience: internal' (staff only)"))
    aliases = [f"/hc/{locale}/articles/{article_id}"] if locale else []
    return Page(key=f"articles/{article_id}", source=source, slug=safe_id(slug_title, f"article-{article_id}"),
                title=text(record.get("title")), category=category, body=body, body_line=1,
                url=path if "/articles/" in path else f"/hc/articles/{article_id}", base_dir="", lang=lang,
                draft=record.get("draft") is True, description="",
                tags=texts(original.get("label_names") if isinstance(original.get("label_names"), list) else []),
                aliases=aliases, addresses=[f"/hc/articles/{article_id}"],
                audience="internal" if restricted else "")
