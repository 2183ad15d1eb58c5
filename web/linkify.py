"""Replies as HTML: the text escaped, then its http(s) links made clickable (no other HTML ever).

Links are found by `kb.helpdesk.article_links.find_links`, the tokenizer that also checks agents' replies
(`kb.helpdesk.replies.clean_reply`), so only links that check saw can become clickable; each carries `http_href`'s address.
"""
from __future__ import annotations

from markupsafe import Markup, escape

from kb.helpdesk.article_links import MARKDOWN, PATH, find_links, http_href

_ANCHOR = Markup('<a href="{}" rel="noopener nofollow">{}</a>')


def linkify(text: str) -> Markup:
    """Plain text as HTML: everything escaped, then http(s) links (`[title](url)`, `<url>`, bare addresses)
    made clickable; a link to any other scheme, or to a path, stays text."""
    text = text or ""
    out, last = [], 0
    for link in find_links(text):
        href = None if link.kind == PATH else http_href(link.url)
        if href is None:
            continue  # stays text: escaped with what is around it
        out.append(escape(text[last:link.start]))
        out.append(_ANCHOR.format(href, link.label if link.kind == MARKDOWN else link.url))
        last = link.end
    out.append(escape(text[last:]))
    return Markup("").join(out)
