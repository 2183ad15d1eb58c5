"""How an index stores a link from one article to another: by the target article's id, never by a web address.
The web layer turns each into its own URL when it shows the page."""
from __future__ import annotations

import re
from html import escape, unescape
from typing import Callable

SCHEME = "kb-article:"  # href="kb-article:<article id>[#anchor]" in an indexed article's HTML
_HREF = re.compile(r'href="kb-article:([^"#]*)((?:#[^"]*)?)"')
ASSET_SCHEME = "kb-asset:"  # src="kb-asset:<path under the articles folder>" (an image or file kept with articles)
_ASSET = re.compile(r'(src|href)="kb-asset:([^"]*)"')


def article_href(article_id: str) -> str:
    """The stored link target of article `article_id`."""
    return SCHEME + article_id


def resolve_article_links(html: str, url_of: Callable[[str], str]) -> str:
    """`html` (an indexed article's) with each stored article link pointing at `url_of(article id)`, its anchor
    kept."""
    return _HREF.sub(lambda m: f'href="{escape(url_of(unescape(m.group(1))))}{m.group(2)}"', html)


def asset_href(path: str) -> str:
    """The stored reference to a file of the articles folder (`path` relative to it, with '/')."""
    return ASSET_SCHEME + path


def asset_paths(html: str) -> set[str]:
    """The articles-folder files an indexed article's HTML shows or links to."""
    return {unescape(m.group(2)) for m in _ASSET.finditer(html)}


def resolve_asset_links(html: str, url_of: Callable[[str], str]) -> str:
    """`html` with each stored file reference pointing at `url_of(path)`."""
    return _ASSET.sub(lambda m: f'{m.group(1)}="{escape(url_of(unescape(m.group(2))))}"', html)
