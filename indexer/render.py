"""Markdown to sanitised HTML, with heading anchors and links between articles turned into portal URLs."""
from __future__ import annotations

import re
from typing import Callable

import markdown
import nh3

from kb.sections import slugify

_HREF_RE = re.compile(r'href="([^"]+)"')
_ALLOWED_TAGS = {"a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "h1", "h2",
                 "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "span", "strong",
                 "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"}
_ALLOWED_ATTRS = {"*": {"id", "class"}, "a": {"href", "title"}, "img": {"src", "alt", "title"},
                  "td": {"align"}, "th": {"align"}, "ol": {"start"}}


class Renderer:
    """One Markdown parser reused for many articles (building a parser costs more than a short article)."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(extensions=["toc", "tables", "fenced_code", "sane_lists"],
                                     extension_configs={"toc": {"slugify": lambda text, sep: slugify(text)}})

    def render(self, body: str, resolve_link: Callable[[str], str | None]) -> str:
        self._md.reset()
        return _finish(self._md.convert(body), resolve_link)


def render_markdown(body: str, resolve_link: Callable[[str], str | None]) -> str:
    """HTML that is safe to show: no script, no event handlers, no javascript: links.

    `resolve_link(target)` maps a relative .md link to a portal URL, or None to leave it as written.
    """
    return Renderer().render(body, resolve_link)


def _finish(html: str, resolve_link: Callable[[str], str | None]) -> str:

    def rewrite(match: re.Match) -> str:
        href = match.group(1)
        path, _, anchor = href.partition("#")
        if path.endswith(".md") and "://" not in path:
            url = resolve_link(path)
            if url:
                return f'href="{url}{"#" + anchor if anchor else ""}"'
        return match.group(0)

    html = _HREF_RE.sub(rewrite, html)
    return nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS,
                     url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener noreferrer")
