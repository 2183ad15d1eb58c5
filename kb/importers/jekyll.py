"""Jekyll: `_posts` and the collections of `_config.yml`, plus Markdown pages with front matter. Liquid is
resolved where kb can say what it meant ({% raw %}, {{ site.baseurl }}, {% link %}, {% post_url %},
{% include %}, {% highlight %}) and reported where it cannot."""
from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

from kb.importers.records import Notice, Page, Site
from kb.importers.sources import load_config, read_text, safe_id, split_page, text, texts, title_of

MARKDOWN = (".md", ".markdown")
_POST_NAME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})-(.+)$")
_TAG = re.compile(r"\{%-?\s*(\w+)\s*(.*?)\s*-?%\}|\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_RAW = re.compile(r"\{%-?\s*raw\s*-?%\}(.*?)\{%-?\s*endraw\s*-?%\}", re.S)
_COMMENT = re.compile(r"\{%-?\s*comment\s*-?%\}.*?\{%-?\s*endcomment\s*-?%\}", re.S)
_URL_FILTER = re.compile(r"""^["']([^"']*)["']\s*\|\s*(relative_url|absolute_url|prepend:\s*site\.baseurl)$""")
_SKIP_DIRS = {"_site", "node_modules", "vendor", ".git", ".jekyll-cache", ".bundle"}


def _marker(n: int) -> str:
    return f"\x00raw{n}\x00"


class Liquid:
    """Liquid of one page turned into what it meant; what kb cannot keep is reported with its line."""

    def __init__(self, root: Path, rel: str, first_line: int, notices: list[Notice]) -> None:
        self.root, self.rel, self.first_line, self.notices = root, rel, first_line, notices

    def report(self, body: str, offset: int, message: str) -> None:
        self.notices.append(Notice(self.rel, self.first_line + body.count("\n", 0, offset), message))

    def convert(self, body: str, depth: int = 0) -> str:
        raws: list[str] = []

        def keep_raw(m: re.Match) -> str:
            raws.append(m.group(1))
            return _marker(len(raws) - 1)

        body = _RAW.sub(keep_raw, body)
        for m in _COMMENT.finditer(body):
            self.report(body, m.start(), "Liquid comment left out (it was not shown on the old site either)")
        body = _COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), body)
        body = _TAG.sub(lambda m: self.tag(m, body, depth), body)
        for n, raw in enumerate(raws):
            body = body.replace(_marker(n), raw)
        return body

    def tag(self, m: re.Match, body: str, depth: int) -> str:
        name, args, output = m.group(1), (m.group(2) or "").strip(), m.group(3)
        if output is not None:
            expression = output.strip()
            if expression in ("site.baseurl", "site.url", "site.url }}{{ site.baseurl"):
                return ""
            url = _URL_FILTER.match(expression)
            if url:
                return url.group(1) if url.group(1).startswith("/") else "/" + url.group(1)
            self.report(body, m.start(), f"Liquid output '{{{{ {expression} }}}}' is not supported; kept as written")
            return m.group(0)
        if name == "link":
            return "/" + args.strip("\"' ").lstrip("/")
        if name == "post_url":
            return "/_posts/" + args.strip("\"' ")
        if name == "highlight":
            return "```" + args.split()[0] if args else "```"
        if name == "endhighlight":
            return "```"
        if name in ("include", "include_relative"):
            return self.include(name, args, m, body, depth)
        self.report(body, m.start(), f"Liquid tag '{{% {name} %}}' is not supported; kept as written")
        return m.group(0)

    def include(self, name: str, args: str, m: re.Match, body: str, depth: int) -> str:
        file = args.split()[0] if args else ""
        base = self.root / "_includes" if name == "include" else (self.root / self.rel).parent
        path = base / file
        if not file or "{{" in file or not path.is_file() or depth > 3:
            self.report(body, m.start(), f"include '{file}' not found; kept as written")
            return m.group(0)
        if len(args.split()) > 1:
            self.report(body, m.start(), f"include '{file}' has parameters, which are not applied")
        return self.convert(read_text(path, self.rel, self.notices), depth + 1).strip("\n")


def _categories_of(data: dict[str, Any]) -> list[str]:
    return texts(data.get("categories")) or texts(data.get("category"))


def _permalink(pattern: str, values: dict[str, str]) -> str:
    styles = {"date": "/:categories/:year/:month/:day/:title:output_ext",
              "pretty": "/:categories/:year/:month/:day/:title/", "none": "/:categories/:title:output_ext",
              "ordinal": "/:categories/:year/:y_day/:title:output_ext"}
    pattern = styles.get(pattern, pattern)
    for key in sorted(values, key=len, reverse=True):
        pattern = pattern.replace(":" + key, values[key])
    return re.sub(r"/+", "/", pattern)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in MARKDOWN and p.is_file()
                  and not any(part in _SKIP_DIRS or part.startswith(".") for part in p.relative_to(root).parts))


def read_site(root: Path) -> Site:
    """Every post, collection document and Markdown page of the Jekyll site in `root`."""
    config = load_config(root / "_config.yml")
    collections = config.get("collections") or {}
    if isinstance(collections, list):
        collections = {name: {} for name in collections}
    collections = {str(k): (v if isinstance(v, dict) else {}) for k, v in collections.items()}
    site = Site("jekyll", root, [], {}, [""], base_path=text(config.get("baseurl")).rstrip("/"),
                site_url=text(config.get("url")).rstrip("/"))
    style = text(config.get("permalink")) or "date"
    for path in _files(root):
        rel = path.relative_to(root).as_posix()
        top = rel.split("/")[0]
        if top == "_posts" or "/_posts/" in "/" + rel or top == "_drafts":
            kind = "post"
        elif top.startswith("_") and top[1:] in collections:
            kind = "collection"
        elif top.startswith("_") or path.name.lower() == "readme.md":
            site.skipped.append((rel, "Jekyll folder that holds no pages" if top.startswith("_") else "README"))
            continue
        else:
            kind = "page"
        page = _page(site, path, rel, kind, collections, style)
        if page is not None:
            site.pages.append(page)
    _join_translations(site)
    return site


# Front-matter keys multilingual Jekyll sites name a page's language versions by (one value for all versions).
TRANSLATION_KEYS = ("ref", "translation_key", "lang_ref")


def _join_translations(site: Site) -> None:
    """Pages that name one translation key (`ref: vpn` in each language's page) become the language versions of
    one article: one key, so one id, a file per language. A key two pages of one language share is reported and
    those pages stay articles of their own."""
    groups: dict[str, list[Page]] = {}
    for page in site.pages:
        if page.key.startswith("ref:"):
            groups.setdefault(page.key, []).append(page)
    for key, pages in groups.items():
        languages = [page.lang for page in pages]
        if len(set(languages)) == len(languages):
            continue
        for page in pages:
            site.notices.append(Notice(page.source, 1, f"{key[4:]!r} names pages of the same language "
                                                       f"({', '.join(p.source for p in pages)}): imported apart"))
            page.key = page.source


def _page(site: Site, path: Path, rel: str, kind: str, collections: dict[str, dict], style: str) -> Page | None:
    raw = read_text(path, rel, site.notices)
    data, body, body_line = split_page(raw, rel, site.notices)
    if kind == "page" and not data and not raw.startswith("---"):
        site.skipped.append((rel, "no front matter (Jekyll copies it as a plain file)"))
        return None
    stem = Path(rel).stem
    dated = _POST_NAME.match(stem)
    slug_source = dated.group(4) if dated and kind == "post" else stem
    if stem == "index":
        slug_source = Path(rel).parent.name or "index"
    categories = _categories_of(data)
    if kind == "collection":
        collection = rel.split("/")[0][1:]
        category, category_title = safe_id(collection), text(collections[collection].get("title")) or \
            title_of(collection)
    elif categories:
        category, category_title = safe_id(categories[0], "general"), title_of(categories[0])
    elif kind == "post":
        category, category_title = "posts", "Posts"
    else:
        folder = rel.split("/")[0] if "/" in rel else ""
        category, category_title = (safe_id(folder), title_of(folder)) if folder else ("general", "General")
    site.categories.setdefault(category, {"title": category_title, "description": ""})
    values = {"categories": "/".join(safe_id(c) for c in categories), "title": slug_source,
              "slug": slug_source, "name": stem, "output_ext": ".html",
              "path": str(Path(rel).with_suffix("")).split("/", 1)[-1] if kind == "collection"
              else str(Path(rel).with_suffix("")),
              "collection": rel.split("/")[0][1:]}
    if dated:
        values.update(year=dated.group(1), month=dated.group(2), day=dated.group(3),
                      i_month=str(int(dated.group(2))), i_day=str(int(dated.group(3))))
    permalink = text(data.get("permalink"))
    if permalink:
        url = _permalink(permalink, values)
    elif kind == "post":
        url = _permalink(style, values)
    elif kind == "collection":
        url = _permalink(text(collections[values["collection"]].get("permalink"))
                         or "/:collection/:path:output_ext", values)
    else:
        url = "/" + (str(Path(rel).with_suffix(".html")) if stem != "index" else str(Path(rel).parent) + "/")
    body = Liquid(site.root, rel, body_line, site.notices).convert(body)
    title = text(data.get("title")) or title_of(slug_source)
    addresses = ["/_posts/" + path.stem] if kind == "post" else []
    translation = next((text(data.get(k)) for k in TRANSLATION_KEYS if text(data.get(k))), "")
    return Page(key=f"ref:{translation}" if translation else rel, source=rel, slug=safe_id(Path(permalink.rstrip("/")).name if permalink else slug_source),
                title=title, category=category, body=body, body_line=body_line, url=url,
                base_dir=posixpath.dirname(rel), lang=text(data.get("lang")),
                draft=data.get("published") is False or rel.startswith("_drafts/"),
                description=text(data.get("description")) or text(data.get("excerpt")),
                tags=texts(data.get("tags")), aliases=[a if a.startswith("/") else "/" + a
                                                       for a in texts(data.get("redirect_from"))],
                addresses=addresses)
