"""How an index stores a link from one article to another: by the target article's id, never by a web address.
The web layer turns each into its own URL when it shows the page."""
from __future__ import annotations

import re
from html import escape, unescape
from typing import Callable

SCHEME = "kb-article:"  # href="kb-article:<article id>[#anchor]" in an indexed article's HTML
_HREF = re.compile(r'href="kb-article:([^"#]*)((?:#[^"]*)?)"')


def article_href(article_id: str) -> str:
    """The stored link target of article `article_id`."""
    return SCHEME + article_id


def resolve_article_links(html: str, url_of: Callable[[str], str]) -> str:
    """`html` (an indexed article's) with each stored article link pointing at `url_of(article id)`, its anchor
    kept."""
    return _HREF.sub(lambda m: f'href="{escape(url_of(unescape(m.group(1))))}{m.group(2)}"', html)
