"""Markdown to sanitised HTML (python-markdown, then nh3), for articles and for community posts.

Articles keep heading anchors, images, and links between articles stored by article id (kb.index.links), never
as web addresses, and images and files by their stored reference; indexer/render.py builds them with `Renderer`.
Posts are what customers write: no raw HTML, no images (an image becomes a link to it), headings demoted below
the page's own, links marked `nofollow ugc`.
"""
from __future__ import annotations

import re
from html import escape, unescape
from typing import Callable
from urllib.parse import unquote

import markdown
import nh3

from kb.sections import slugify

_HREF_RE = re.compile(r'href="([^"]+)"')
_LINK_RE = re.compile(r'<a\b[^>]*?\bhref="([^"]+)"[^>]*>(.*?)</a>', re.S)
_IMG_RE = re.compile(r'<img\b[^>]*?\bsrc="([^"]+)"[^>]*>')
_ALT_RE = re.compile(r'\balt="([^"]*)"')
# What `resolve_link` returns for a link that must not be one: the link's text stays, as plain text.
UNLINK = ""
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

    def render(self, body: str, resolve_link: Callable[[str], str | None],
               resolve_asset: Callable[[str], str | None] | None = None) -> str:
        self._md.reset()
        return _finish(self._md.convert(body), resolve_link, resolve_asset)


def render_markdown(body: str, resolve_link: Callable[[str], str | None],
                    resolve_asset: Callable[[str], str | None] | None = None) -> str:
    """HTML that is safe to show: no script, no event handlers, no javascript: links.

    `resolve_link(target)` maps a relative .md link to its stored target (kb.index.links.article_href), None to
    leave it as written, or UNLINK to keep only the link's text (a link to an article the page's readers may not
    see). `resolve_asset(target)` maps a relative image or file link to its stored reference
    (kb.index.links.asset_href), None to leave it as written. Images load lazily and always have alt text.
    """
    return Renderer().render(body, resolve_link, resolve_asset)


def _is_relative(url: str) -> bool:
    return bool(url) and ":" not in url.partition("/")[0] and not url.startswith(("/", "#", "?"))


def _finish(html: str, resolve_link: Callable[[str], str | None],
            resolve_asset: Callable[[str], str | None] | None = None) -> str:
    # Cleaned first: links written as raw HTML come out in the same form as Markdown's, so none slips past below.
    html = nh3.clean(html, tags=_ALLOWED_TAGS, attributes=_ALLOWED_ATTRS,
                     url_schemes={"http", "https", "mailto", "tel"}, link_rel="noopener noreferrer")
    resolved: dict[str, str | None] = {}

    def resolve(href: str) -> str | None:
        path = unescape(href).partition("#")[0]
        if not path.endswith(".md") or "://" in path:
            return None
        if path not in resolved:
            resolved[path] = resolve_link(path)
        return resolved[path]

    def unlink(match: re.Match) -> str:
        return match.group(2) if resolve(match.group(1)) == UNLINK else match.group(0)

    def unlink_image(match: re.Match) -> str:
        if resolve(match.group(1)) != UNLINK:
            return match.group(0)
        alt = _ALT_RE.search(match.group(0))
        return alt.group(1) if alt else ""

    def rewrite(match: re.Match) -> str:
        url = resolve(match.group(1))
        if url:
            anchor = unescape(match.group(1)).partition("#")[2]
            return f'href="{escape(url)}{"#" + escape(anchor) if anchor else ""}"'
        return match.group(0)

    def asset(url: str) -> str | None:
        target = unescape(url).partition("#")[0]
        if resolve_asset is None or not _is_relative(target) or target.endswith(".md"):
            return None
        return resolve_asset(unquote(target))

    def finish_image(match: re.Match) -> str:
        tag, stored = match.group(0), asset(match.group(1))
        if stored:
            tag = tag.replace(f'src="{match.group(1)}"', f'src="{escape(stored)}"', 1)
        extra = ("" if _ALT_RE.search(tag) else ' alt=""') + ("" if " loading=" in tag else ' loading="lazy"')
        return tag[:4] + extra + tag[4:]

    def file_link(match: re.Match) -> str:
        stored = asset(match.group(1))
        return f'href="{escape(stored)}"' if stored else match.group(0)

    html = _HREF_RE.sub(rewrite, _IMG_RE.sub(unlink_image, _LINK_RE.sub(unlink, html)))
    return _HREF_RE.sub(file_link, _IMG_RE.sub(finish_image, html))


# --- posts -------------------------------------------------------------------------------------------------------

# No headings at all: h1-h6 become h4-h6 below (a post never outranks the page's h1-h3); no img, no id (a post
# must not take over the page's anchors).
_POST_TAGS = {"a", "b", "blockquote", "br", "code", "del", "em", "h4", "h5", "h6", "hr", "i", "kbd", "li", "ol",
              "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul"}
_POST_ATTRS = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}, "ol": {"start"}}
_HEADING_RE = re.compile(r"<(/?)h([1-6])\b")
_POST_IMG_RE = re.compile(r"<img\b[^>]*>")
_SRC_RE = re.compile(r'\bsrc="([^"]*)"')


def _escape_html(md: markdown.Markdown) -> None:
    """Raw HTML in a post is shown as typed, never interpreted."""
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")


def _image_as_link(match: re.Match) -> str:
    src = _SRC_RE.search(match.group(0))
    alt = _ALT_RE.search(match.group(0))
    text = (alt.group(1) if alt else "") or (src.group(1) if src else "")
    return f'<a href="{src.group(1)}">{text}</a>' if src else text


def _demote(match: re.Match) -> str:
    return f"<{match.group(1)}h{min(int(match.group(2)) + 3, 6)}"


class PostRenderer:
    """One parser for the many posts of one page (not thread-safe: one per request)."""

    def __init__(self) -> None:
        self._md = markdown.Markdown(extensions=["tables", "fenced_code", "sane_lists"])
        _escape_html(self._md)

    def render(self, body: str) -> str:
        """A community post's HTML: Markdown without raw HTML, images as links, headings demoted to h4-h6, links
        `rel="nofollow ugc"` and only http(s)/mailto."""
        self._md.reset()
        html = _HEADING_RE.sub(_demote, _POST_IMG_RE.sub(_image_as_link, self._md.convert(body)))
        return nh3.clean(html, tags=_POST_TAGS, attributes=_POST_ATTRS, url_schemes={"http", "https", "mailto"},
                         link_rel="nofollow ugc")


def render_post(body: str) -> str:
    """PostRenderer.render with a parser of its own."""
    return PostRenderer().render(body)
