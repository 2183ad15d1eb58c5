"""MkDocs: `nav` gives the categories (its top-level sections) and the titles, `docs_dir` the pages, admonitions
(`!!! note "Title"`) become blockquotes with a bold title, content tabs bold headings, and the redirects plugin's
`redirect_maps` become aliases. Snippets and macros are reported and kept as written."""
from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kb.importers.records import Notice, Page, Site
from kb.importers.sources import load_config, read_text, safe_id, split_page, text, texts, title_of

MARKDOWN = (".md", ".markdown")
_BLOCK = re.compile(r'^(!!!|\?\?\?\+?|===)\s*([\w-]*)\s*(?:"([^"]*)")?\s*$')
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$")
_UNSUPPORTED = [(re.compile(r"^-{2,}8<-{2,}|^;?--8<--"), "snippet ('--8<--') is not supported; kept as written"),
                (re.compile(r"\{\{.*?\}\}|\{%.*?%\}"), "macro ('{{ }}' or '{% %}') is not supported; kept as written")]


def convert_blocks(lines: list[str], rel: str, first_line: int, notices: list[Notice]) -> list[str]:
    """Admonitions as blockquotes (`> **Title**`), content tabs as a bold line; what is inside is converted too."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        block = _BLOCK.match(line.rstrip("\n"))
        if not block or (block.group(1) != "===" and not block.group(2)):
            for pattern, message in _UNSUPPORTED:
                if pattern.search(line):
                    notices.append(Notice(rel, first_line + i, message))
            out.append(line)
            i += 1
            continue
        inner, j = [], i + 1
        while j < len(lines) and (not lines[j].strip() or lines[j].startswith(("    ", "\t"))):
            inner.append(lines[j][4:] if lines[j].startswith("    ") else lines[j].lstrip("\t"))
            j += 1
        while inner and not inner[-1].strip():
            inner.pop()
            j -= 1
        inner = convert_blocks(inner, rel, first_line + i + 1, notices)
        kind, title = block.group(1), block.group(3)
        if kind == "===":
            out += [f"**{title or ''}**\n", "\n", *inner]
        else:
            title = title_of(block.group(2)) if title is None else title
            quoted = [f"> {x}" if x.strip() else ">\n" for x in inner]
            out += ([f"> **{title}**\n", ">\n"] if title else []) + quoted
        out.append("\n")
        i = j
    return out


def page_url(rel: str, directory_urls: bool) -> str:
    """A page's address as MkDocs gives it (`rel` relative to docs_dir)."""
    stem = posixpath.splitext(rel)[0]
    if posixpath.basename(stem) in ("index", "README"):
        return "/" + posixpath.dirname(stem) + ("/" if posixpath.dirname(stem) else "")
    return f"/{stem}/" if directory_urls else f"/{stem}.html"


def walk_nav(nav: Any, found: dict[str, tuple[str, str, str]], section: tuple[str, str] | None = None) -> None:
    """doc path -> (category id, category title, page title) for every page named in `nav`."""
    for item in nav if isinstance(nav, list) else []:
        title, value = (next(iter(item.items())) if isinstance(item, dict) and item else (None, item))
        if isinstance(value, list):
            walk_nav(value, found, section or (safe_id(str(title), "general"), str(title)))
        elif isinstance(value, str) and "://" not in value:
            category = section or ("general", "General")
            found.setdefault(value.lstrip("/"), (*category, str(title) if title else ""))


def _redirect_maps(config: dict[str, Any]) -> dict[str, str]:
    for plugin in config.get("plugins") or []:
        if isinstance(plugin, dict) and isinstance(plugin.get("redirects"), dict):
            maps = plugin["redirects"].get("redirect_maps")
            return {str(k): str(v) for k, v in maps.items()} if isinstance(maps, dict) else {}
    return {}


def i18n_languages(config: dict[str, Any]) -> tuple[list[str], str, str]:
    """The i18n plugin's (mkdocs-static-i18n) locales, its default locale and its docs structure ('suffix':
    `page.fr.md`, or 'folder': `fr/page.md`); no locales without the plugin."""
    for plugin in config.get("plugins") or []:
        options = plugin.get("i18n") if isinstance(plugin, dict) else None
        if isinstance(options, dict):
            languages = [x for x in options.get("languages") or [] if isinstance(x, dict) and text(x.get("locale"))]
            locales = [text(x["locale"]) for x in languages]
            default = next((text(x["locale"]) for x in languages if x.get("default") is True), locales[0] if locales
                           else "")
            return locales, default, "folder" if text(options.get("docs_structure")) == "folder" else "suffix"
    return [], "", "suffix"


def language_version(doc: str, locales: list[str], structure: str) -> tuple[str, str]:
    """(the page all language versions of `doc` share, its locale; '' for a page in no locale's form)."""
    if structure == "folder":
        first, _, rest = doc.partition("/")
        return (rest, first) if rest and first in locales else (doc, "")
    stem, dot, suffix = doc.rsplit("/", 1)[-1].rpartition(".")
    name, _, locale = stem.rpartition(".")
    if name and locale in locales:
        return doc[:len(doc) - len(stem) - len(dot) - len(suffix)] + name + dot + suffix, locale
    return doc, ""


def read_site(root: Path) -> Site:
    """Every page under docs_dir of the MkDocs site in `root`, placed and titled by its nav."""
    config = load_config(root / "mkdocs.yml") or load_config(root / "mkdocs.yaml")
    docs_dir = text(config.get("docs_dir")) or "docs"
    directory_urls = config.get("use_directory_urls", True) is not False
    base = urlsplit(text(config.get("site_url")))
    site = Site("mkdocs", root, [], {}, [docs_dir], base_path=base.path.rstrip("/"),
                site_url=f"{base.scheme}://{base.netloc}" if base.netloc else "")
    nav: dict[str, tuple[str, str, str]] = {}
    walk_nav(config.get("nav"), nav)
    docs = root / docs_dir
    files = sorted(p for p in docs.rglob("*") if p.suffix.lower() in MARKDOWN and p.is_file()) if docs.is_dir() \
        else []
    by_doc: dict[str, Page] = {}
    for category, title, _ in nav.values():
        site.categories.setdefault(category, {"title": title, "description": ""})
    locales, default, structure = i18n_languages(config)
    for path in files:
        doc = path.relative_to(docs).as_posix()
        shared, locale = language_version(doc, locales, structure) if locales else (doc, "")
        placed = nav.get(doc) or nav.get(shared)
        if placed and locale and locale != default:  # the nav's labels are the default language's
            placed = (placed[0], placed[1], "")
        page = _page(site, path, doc, docs_dir, placed, directory_urls, shared)
        if locales:  # one article per page, a file per language (the default locale's address as it was)
            page.key, page.lang = f"{docs_dir}/{shared}", locale or page.lang or default
            page.url = ("" if page.lang == default else f"/{page.lang}") + page_url(shared, directory_urls)
        by_doc[doc] = page
        site.pages.append(page)
    for old, new in _redirect_maps(config).items():
        target = by_doc.get(new.lstrip("/"))
        if target is None:
            site.notices.append(Notice("mkdocs.yml", 1, f"redirect from '{old}' to '{new}': not a page of the "
                                                        "site, not kept"))
            continue
        target.aliases.append(page_url(old, directory_urls))
    return site


def _page(site: Site, path: Path, doc: str, docs_dir: str, placed: tuple[str, str, str] | None,
          directory_urls: bool, shared: str) -> Page:
    """The page `doc` (a language version of `shared`, the path its versions share: its folder and name)."""
    rel = f"{docs_dir}/{doc}"
    data, body, body_line = split_page(read_text(path, rel, site.notices), rel, site.notices)
    lines = body.splitlines(keepends=True)
    first = next((n for n, x in enumerate(lines) if x.strip()), None)
    heading = _H1.match(lines[first]) if first is not None else None
    title = (placed[2] if placed else "") or text(data.get("title")) or (heading.group(1) if heading else "")
    description = text(data.get("description"))
    if heading:  # the page's own title: kb shows the article's title above the body, so not twice
        lines[first] = "\n"
        if heading.group(1) != title and not description:
            description = heading.group(1)
    title = title or title_of(Path(shared).stem)
    if placed:
        category = placed[0]
    else:
        folder = shared.split("/")[0] if "/" in shared else ""
        category = safe_id(folder) if folder else "general"
        site.categories.setdefault(category, {"title": title_of(folder) if folder else "General",
                                              "description": ""})
    body = "".join(convert_blocks(lines, rel, body_line, site.notices))
    name = Path(shared)
    stem = name.stem if name.stem not in ("index", "README") else (name.parent.name if shared.count("/") else "home")
    return Page(key=rel, source=rel, slug=safe_id(stem), title=title, category=category, body=body,
                body_line=body_line, url=page_url(doc, directory_urls), base_dir=posixpath.dirname(rel),
                lang=text(data.get("lang")), draft=data.get("draft") is True or data.get("status") == "draft",
                description=description, tags=texts(data.get("tags")),
                addresses=["/" + doc])
