"""Hugo: the sections of `content/` become categories (titled by their `_index.md`), page bundles keep their
images, `aliases` and the page's own address become kb aliases, and the shortcodes kb can express (figure, ref,
relref, highlight) are converted; any other shortcode is reported and kept as written."""
from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kb.importers.records import Notice, Page, Site
from kb.importers.sources import load_config, read_text, safe_id, split_page, text, texts, title_of

MARKDOWN = (".md", ".markdown")
CONFIG_FILES = ("hugo.toml", "hugo.yaml", "hugo.yml", "config.toml", "config.yaml", "config.yml")
_SHORTCODE = re.compile(r"\{\{([<%])\s*(/?)\s*([\w./-]+)(.*?)\s*[>%]\}\}", re.S)
# A shortcode shown as text rather than run ("{{</* figure */>}}" in documentation about shortcodes).
_ESCAPED = re.compile(r"\{\{([<%])/\*(.*?)\*/([>%])\}\}", re.S)
_PARAM = re.compile(r"""(?:(\w+)\s*=\s*)?("[^"]*"|'[^']*'|`[^`]*`|[^\s"'`]+)""")
_LANG_SUFFIX = re.compile(r"^(.+)\.([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)$")


def params(args: str) -> tuple[list[str], dict[str, str]]:
    """A shortcode's positional and named parameters, quotes removed."""
    positional, named = [], {}
    for m in _PARAM.finditer(args):
        value = m.group(2)
        value = value[1:-1] if value[:1] in "\"'`" and len(value) > 1 else value
        if m.group(1):
            named[m.group(1)] = value
        else:
            positional.append(value)
    return positional, named


def convert_shortcodes(body: str, rel: str, first_line: int, content_dir: str, notices: list[Notice]) -> str:
    def report(m: re.Match, message: str) -> None:
        notices.append(Notice(rel, first_line + body.count("\n", 0, m.start()), message))

    def replace(m: re.Match) -> str:
        closing, name = m.group(2) == "/", m.group(3)
        positional, named = params(m.group(4))
        if name == "highlight":
            return "```" if closing else "```" + (positional[0] if positional else "")
        if closing:
            report(m, f"shortcode '{name}' is not supported; kept as written")
            return m.group(0)
        if name in ("ref", "relref"):
            target = named.get("path") or (positional[0] if positional else "")
            if not target:
                report(m, f"shortcode '{name}' without a path; kept as written")
                return m.group(0)
            path, _, anchor = target.partition("#")
            path = f"/{content_dir}/{path.lstrip('/')}" if path.startswith("/") else path
            return path + (f"#{anchor}" if anchor else "")
        if name == "figure":
            src = named.get("src", "")
            alt = named.get("alt") or named.get("caption") or named.get("title") or ""
            title = f' "{named["title"]}"' if named.get("title") else ""
            caption = named.get("caption", "")
            return f"![{alt}]({src}{title})" + (f"\n\n*{caption}*" if caption and caption != alt else "")
        report(m, f"shortcode '{name}' is not supported; kept as written")
        return m.group(0)

    # Escaped shortcodes are written out as the page showed them, after the others are converted, so that they are
    # never run themselves.
    shown: list[str] = []

    def hold(m: re.Match) -> str:
        shown.append("{{" + m.group(1) + m.group(2) + m.group(3) + "}}")
        return f"\x00{len(shown) - 1}" + "\n" * m.group(0).count("\n") + "\x00"  # lines still counted

    body = _ESCAPED.sub(hold, body)  # (what `report` counts lines in)
    converted = _SHORTCODE.sub(replace, body)
    return re.sub(r"\x00(\d+)\n*\x00", lambda m: shown[int(m.group(1))], converted)


def _first(value: Any) -> str:
    return text(value[0]) if isinstance(value, list) and value else text(value)


def read_site(root: Path) -> Site:
    """Every page under the content folder of the Hugo site in `root`."""
    config: dict[str, Any] = {}
    for name in CONFIG_FILES:
        if (root / name).is_file():
            config = load_config(root / name)
            break
    content_dir = text(config.get("contentDir")) or "content"
    static_dirs = config.get("staticDir") or "static"
    base = urlsplit(text(config.get("baseURL")))
    # Page resources are published beside their page: content/ is a root of files too.
    statics = [*(texts(static_dirs) if isinstance(static_dirs, list) else [str(static_dirs)]), content_dir]
    site = Site("hugo", root, [], {}, statics,
                base_path=base.path.rstrip("/"), site_url=f"{base.scheme}://{base.netloc}" if base.netloc else "")
    default_lang = (text(config.get("defaultContentLanguage")) or "en").lower()
    content = root / content_dir
    files = sorted(p for p in content.rglob("*") if p.suffix.lower() in MARKDOWN and p.is_file()) \
        if content.is_dir() else []
    sections = [p for p in files if _LANG_SUFFIX.sub(r"\1", p.stem) == "_index"]
    for path in sections:  # section titles first: they name the categories
        rel = path.relative_to(root).as_posix()
        inside = path.parent.relative_to(content).parts
        if len(inside) != 1:
            site.skipped.append((rel, "the home page or a subsection's page (its section is the category)"))
            continue
        data, body, _ = split_page(read_text(path, rel, site.notices), rel, site.notices)
        site.categories.setdefault(safe_id(inside[0]), {"title": text(data.get("title")) or title_of(inside[0]),
                                                        "description": text(data.get("description"))})
        site.skipped.append((rel, "section page: its title names the category"
                             + ("; its text is not imported" if body.strip() else "")))
    for path in files:
        if path not in sections:
            site.pages.append(_page(site, root, content, content_dir, path, default_lang))
    return site


def _page(site: Site, root: Path, content: Path, content_dir: str, path: Path, default_lang: str) -> Page:
    rel = path.relative_to(root).as_posix()
    data, body, body_line = split_page(read_text(path, rel, site.notices), rel, site.notices)
    stem, lang = path.stem, ""
    suffixed = _LANG_SUFFIX.match(stem)
    if suffixed:
        stem, lang = suffixed.group(1), suffixed.group(2).lower()
    lang = (text(data.get("lang")) or lang).lower()
    lang = "" if lang == default_lang else lang
    inside = path.relative_to(content)
    bundle = stem == "index"
    folders = inside.parent.parts[:-1] if bundle else inside.parent.parts
    name = inside.parent.name if bundle else stem
    section = inside.parts[0] if len(inside.parts) > 1 and not (bundle and len(inside.parts) == 2) else ""
    category = safe_id(section) if section else "general"
    site.categories.setdefault(category, {"title": title_of(section) if section else "General",
                                          "description": ""})
    slug = text(data.get("slug")) or name
    url = text(data.get("url")) or "/" + "/".join([*folders, slug]) + "/"
    if lang:
        url = f"/{lang}{url}" if not text(data.get("url")) else url
    key = posixpath.join(posixpath.dirname(rel), (name if not bundle else "index") + path.suffix)
    body = convert_shortcodes(body, rel, body_line, content_dir, site.notices)
    return Page(key=key, source=rel, slug=safe_id(slug), title=text(data.get("title")) or title_of(name),
                category=category, body=body, body_line=body_line, url=url, base_dir=posixpath.dirname(rel),
                lang=lang, draft=data.get("draft") is True, description=text(data.get("description"))
                or text(data.get("summary")), tags=texts(data.get("tags")) + texts(data.get("keywords")),
                aliases=[a if a.startswith("/") else "/" + a for a in texts(data.get("aliases"))],
                addresses=["/" + key])
