"""Docusaurus: the pages of `docs/` (versioned docs are left out and reported), placed by the sidebar's top-level
categories (`sidebars.js`/`sidebars.ts` read as a plain object literal, never run) or else by their top folder
(titled by its `_category_.json`/`.yml`). Admonitions (`:::note Title`) become blockquotes with a bold title; MDX
`import`/`export` lines are dropped and JSX components kept as text, both reported. `i18n/<locale>/docusaurus-plugin-
content-docs/current/` holds the translations; `@site/static/...` and `/img/...` images are found in `static/`."""
from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import json5

from kb.importers.records import Notice, Page, Site
from kb.importers.sources import load_config, read_text, safe_id, split_page, text, texts, title_of

MARKDOWN = (".md", ".mdx", ".markdown")
I18N = "docusaurus-plugin-content-docs/current"
_OPEN = re.compile(r"^(:{3,})\s*([A-Za-z][\w-]*)\s*(?:\[(.*)\]|(.*))$")
_MDX_LINE = re.compile(r"^(import|export)\s")
_JSX = re.compile(r"</?([A-Z][\w.]*)[\s/>]")
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$")
_NUMBER = re.compile(r"^\d+[-_. ]+(?=.)")
_SIDEBAR_START = re.compile(r"(?:module\.exports|export\s+default|(?:const|let|var)\s+\w+(?:\s*:\s*[\w.<>]+)?)"
                            r"\s*=?\s*\{")
_CONFIG_VALUE = r"""\b{key}\s*:\s*['"`]([^'"`]*)['"`]"""


def convert_admonitions(lines: list[str], rel: str, first_line: int, notices: list[Notice],
                        fence: str = "") -> list[str]:
    """Admonitions as blockquotes (`> **Title**`), nested ones too; `import`/`export` lines of MDX dropped and JSX
    components kept, each reported with its line."""
    out: list[str] = []
    i, code = 0, ""
    while i < len(lines):
        line, where = lines[i], first_line + i
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            code = "" if code and stripped.startswith(code) else (code or stripped[:3])
        block = None if code else _OPEN.match(stripped)
        if block is None:
            if not code and _MDX_LINE.match(line) and not fence:
                notices.append(Notice(rel, where, f"MDX '{line.split()[0]}' line dropped"))
                i += 1
                continue
            for component in ([] if code else dict.fromkeys(_JSX.findall(re.sub(r"`[^`]*`", "", line)))):
                notices.append(Notice(rel, where, f"JSX component <{component}> is not supported; kept as text"))
            out.append(line)
            i += 1
            continue
        colons = block.group(1)
        j, depth = i + 1, 0
        while j < len(lines):  # its closing line, past those of admonitions of as many colons inside it
            nested = _OPEN.match(lines[j].strip())
            if nested and nested.group(1) == colons:
                depth += 1
            elif lines[j].strip() == colons:
                if depth == 0:
                    break
                depth -= 1
            j += 1
        if j == len(lines):
            notices.append(Notice(rel, where, f"admonition '{colons}{block.group(2)}' is not closed; read to the "
                                              "end of the page"))
        inner = convert_admonitions(lines[i + 1:j], rel, where + 1, notices, colons)
        while inner and not inner[-1].strip():
            inner.pop()
        while inner and not inner[0].strip():
            inner.pop(0)
        title = text(block.group(3) if block.group(3) is not None else block.group(4)) or title_of(block.group(2))
        out += [f"> **{title}**\n", ">\n", *(f"> {x}" if x.strip() else ">\n" for x in inner), "\n"]
        i = j + 1
    return out


def object_literal(source: str) -> Any:
    """The object a sidebars.js/.ts file exports, read as JSON5 without running it (ValueError when it is not a
    plain literal: a function call, a spread, a variable...)."""
    start = _SIDEBAR_START.search(source)
    if start is None:
        raise ValueError("no exported object found")
    begin, depth, quote, i = start.end() - 1, 0, "", start.end() - 1
    while i < len(source):
        ch = source[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"`":
            quote = ch
        elif source.startswith("//", i):
            i = source.find("\n", i) if "\n" in source[i:] else len(source)
        elif source.startswith("/*", i):
            i = source.find("*/", i) + 1 or len(source)
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return json5.loads(source[begin:i + 1])
        i += 1
    raise ValueError("the object is not closed")


def walk_sidebar(items: Any, found: dict[str, tuple[str, str]], folders: dict[str, tuple[str, str]],
                 unread: list[str], category: tuple[str, str] | None = None) -> None:
    """doc id -> (category id, title) for each doc a sidebar names; folder -> category for `autogenerated` items.
    What cannot be read is added to `unread`."""
    if isinstance(items, dict) and not {"type", "label", "items", "id"} & set(items):
        items = [{"type": "category", "label": k, "items": v} for k, v in items.items()]  # shorthand
    for item in items if isinstance(items, list) else [items]:
        if isinstance(item, str):
            found.setdefault(item, category or ("general", "General"))
        elif isinstance(item, dict) and item.get("type") in ("doc", "ref") and isinstance(item.get("id"), str):
            found.setdefault(item["id"], category or ("general", "General"))
        elif isinstance(item, dict) and (item.get("type") == "category" or "items" in item):
            label = text(item.get("label")) or "General"
            here = category or (safe_id(label, "general"), label)
            link = item.get("link") if isinstance(item.get("link"), dict) else {}
            if link.get("type") == "doc" and isinstance(link.get("id"), str):
                found.setdefault(link["id"], here)
            walk_sidebar(item.get("items") or [], found, folders, unread, here)
        elif isinstance(item, dict) and item.get("type") == "autogenerated":
            folders.setdefault(text(item.get("dirName")).strip("/") or ".", category or ("", ""))
        elif not (isinstance(item, dict) and item.get("type") in ("link", "html")):
            unread.append(str(item)[:60])


def doc_id(rel: str, data: dict[str, Any]) -> str:
    """Docusaurus's id of the doc at `rel` (relative to docs/): its path without number prefixes and extension,
    the last part replaced by the front matter's `id`."""
    parts = [_NUMBER.sub("", p) for p in posixpath.splitext(rel)[0].split("/")]
    if text(data.get("id")):
        parts[-1] = text(data["id"])
    return "/".join(parts)


def page_url(rel: str, data: dict[str, Any], route: str) -> str:
    """The doc's address: `slug` (absolute, or relative to its folder), else its folder and id; an index or README
    (or a doc named like its folder) is its folder's address."""
    ident = doc_id(rel, data)
    folder, name = posixpath.split(ident)
    slug = text(data.get("slug"))
    if slug:
        path = slug if slug.startswith("/") else posixpath.join("/" + folder, slug)
    elif name.lower() in ("index", "readme") or (folder and name == posixpath.basename(folder)
                                                  and not text(data.get("id"))):
        path = "/" + folder
    else:
        path = "/" + ident
    return posixpath.normpath("/" + "/".join(x for x in (route.strip("/"), path.strip("/")) if x))


def _config_value(source: str, key: str) -> str:
    found = re.search(_CONFIG_VALUE.format(key=key), source)
    return found.group(1) if found else ""


def read_site(root: Path) -> Site:
    """Every doc of the Docusaurus site in `root`, with its translations."""
    config = next((root / n for n in ("docusaurus.config.js", "docusaurus.config.ts", "docusaurus.config.mjs")
                   if (root / n).is_file()), None)
    source = config.read_text(encoding="utf-8", errors="replace") if config else ""
    base = urlsplit(_config_value(source, "url"))
    route = _config_value(source, "routeBasePath") if "routeBasePath" in source else "docs"
    site = Site("docusaurus", root, [], {}, ["static", ""], base_path=_config_value(source, "baseUrl").rstrip("/"),
                site_url=f"{base.scheme}://{base.netloc}" if base.netloc else "")
    for versioned in ("versioned_docs", "versioned_sidebars"):
        if (root / versioned).is_dir():
            site.skipped.append((versioned, "versioned docs are not imported (only the current docs are)"))
    sidebar, folders = _sidebar(root, site)
    docs = root / "docs"
    files = sorted(p for p in docs.rglob("*") if p.suffix.lower() in MARKDOWN and p.is_file()
                   and not any(part.startswith("_") for part in p.relative_to(docs).parts)) if docs.is_dir() else []
    placed: dict[str, tuple[str, str]] = {}
    for path in files:
        rel = path.relative_to(docs).as_posix()
        page = _page(site, path, rel, "docs", route, sidebar, folders, docs, "")
        placed[rel] = (page.category, page.slug)
        site.pages.append(page)
    i18n = root / "i18n"
    for folder in sorted(i18n.glob(f"*/{I18N}")) if i18n.is_dir() else []:
        locale = folder.relative_to(i18n).parts[0]
        for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in MARKDOWN and p.is_file()):
            rel = path.relative_to(folder).as_posix()
            where = f"i18n/{locale}/{I18N}"
            if rel not in placed:
                site.notices.append(Notice(f"{where}/{rel}", 1, "a translation of no page of docs/; not imported"))
                continue
            page = _page(site, path, rel, where, f"{locale}/{route}", sidebar, folders, docs, locale)
            page.category, page.slug = placed[rel]
            site.pages.append(page)
    return site


def _sidebar(root: Path, site: Site) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, str]]]:
    found: dict[str, tuple[str, str]] = {}
    folders: dict[str, tuple[str, str]] = {}
    path = next((root / n for n in ("sidebars.js", "sidebars.ts", "sidebars.mjs", "sidebars.cjs", "sidebars.json")
                 if (root / n).is_file()), None)
    if path is None:
        return found, folders
    try:
        source = path.read_text(encoding="utf-8", errors="replace")
        sidebars = json5.loads(source) if path.suffix == ".json" else object_literal(source)
    except ValueError as exc:
        site.notices.append(Notice(path.name, 1, f"cannot be read without running it ({str(exc).splitlines()[0]});"
                                                 " pages are placed by their folders"))
        return found, folders
    unread: list[str] = []
    for items in (sidebars.values() if isinstance(sidebars, dict) else []):
        walk_sidebar(items, found, folders, unread)
    for item in unread:
        site.notices.append(Notice(path.name, 1, f"sidebar item not understood, left out: {item}"))
    for category, title in [*found.values(), *folders.values()]:
        if category:
            site.categories.setdefault(category, {"title": title, "description": ""})
    return found, folders


def _folder_category(site: Site, docs: Path, folder: str) -> str:
    config: dict[str, Any] = {}
    for name in ("_category_.json", "_category_.yml", "_category_.yaml"):
        path = docs / folder / name
        if path.is_file():
            try:
                config = json5.loads(path.read_text(encoding="utf-8")) if name.endswith(".json") \
                    else load_config(path)
            except ValueError as exc:
                site.notices.append(Notice(f"docs/{folder}/{name}", 1, f"cannot be read ({exc}); the folder's "
                                                                       "name is its title"))
            break
    config = config if isinstance(config, dict) else {}
    link = config.get("link") if isinstance(config.get("link"), dict) else {}
    title = text(config.get("label")) or title_of(_NUMBER.sub("", folder))
    category = safe_id(title, "general")
    site.categories.setdefault(category, {"title": title, "description": text(config.get("description")) or
                                          text(link.get("description"))})
    return category


def _page(site: Site, path: Path, rel: str, where: str, route: str, sidebar: dict[str, tuple[str, str]],
          folders: dict[str, tuple[str, str]], docs: Path, locale: str) -> Page:
    source = f"{where}/{rel}"
    data, body, body_line = split_page(read_text(path, source, site.notices), source, site.notices)
    ident = doc_id(rel, data)
    lines = body.splitlines(keepends=True)
    first = next((n for n, x in enumerate(lines) if x.strip()), None)
    heading = _H1.match(lines[first]) if first is not None else None
    title = text(data.get("title")) or (heading.group(1) if heading else "") or text(data.get("sidebar_label"))
    if heading and heading.group(1) == title:  # kb shows the title above the body, so not twice
        lines[first] = "\n"
    folder = rel.split("/")[0] if "/" in rel else ""
    autogenerated = next((c for f, c in sorted(folders.items(), key=lambda x: -len(x[0]))
                          if c[0] and (f == "." or rel.startswith(f + "/"))), None)
    if ident in sidebar:
        category = sidebar[ident][0]
    elif autogenerated:
        category = autogenerated[0]
    elif folder:
        category = _folder_category(site, docs, folder)
    else:
        category = "general"
        site.categories.setdefault("general", {"title": "General", "description": ""})
    body = "".join(convert_admonitions(lines, source, body_line, site.notices))
    body = body.replace("](@site/static/", "](/").replace("](@site/", "](/")
    name = posixpath.basename(ident)
    if name.lower() in ("index", "readme"):
        name = posixpath.basename(posixpath.dirname(ident)) or "home"
    tags = [text(t.get("label")) if isinstance(t, dict) else t for t in (data.get("tags") or [])] \
        if isinstance(data.get("tags"), list) else texts(data.get("tags"))
    return Page(key=f"docs/{rel}", source=source, slug=safe_id(name), title=title or title_of(name),
                category=category, body=body, body_line=body_line, url=page_url(rel, data, route),
                base_dir=posixpath.dirname(f"docs/{rel}"),  # a translation's links resolve as its page's do
                lang=locale or text(data.get("lang")),
                draft=data.get("draft") is True, description=text(data.get("description")),
                tags=[t for t in tags if t], addresses=[f"/docs/{rel}"])
