"""Replies as HTML: the text escaped, then its http(s) links made clickable (no other HTML ever)."""
from __future__ import annotations

import re

from markupsafe import Markup, escape

from kb.replies import TRAILING, URL_PATTERN

_TOKENS = re.compile(r"\[(?P<text>[^\[\]\n]{1,300})\]\((?P<target>" + URL_PATTERN + r")\)"
                     r"|(?P<bare>" + URL_PATTERN + r")", re.IGNORECASE)


def linkify(text: str) -> Markup:
    """Plain text as HTML: everything escaped, then http(s) links and `[title](http(s)://...)` made clickable."""
    out, last = [], 0
    for match in _TOKENS.finditer(text or ""):
        out.append(escape(text[last:match.start()]))
        if match.group("bare"):
            url = match.group("bare")
            trail = len(url) - len(url.rstrip(TRAILING))
            url, tail = (url[:-trail], url[-trail:]) if trail else (url, "")
            out.append(Markup('<a href="{0}" rel="noopener nofollow">{0}</a>').format(url) + escape(tail))
        else:
            out.append(Markup('<a href="{}" rel="noopener nofollow">{}</a>').format(match.group("target"),
                                                                              match.group("text")))
        last = match.end()
    out.append(escape((text or "")[last:]))
    return Markup("").join(out)
