"""Links to articles in agents' replies: which public articles a reply links, and no link to any other.

A reply is plain text. Links are `[title](https://host/articles/<id>)` (what the desk's composer inserts) or
bare http(s) URLs. A link to an article that is not public never stays in a reply a customer reads.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import unquote, urlsplit

REMOVED = "[internal article: link removed]"
URL_PATTERN = r"https?://[^\s<>\"'\[\]()]+"
_MD_LINK = re.compile(r"\[([^\[\]\n]{1,300})\]\((" + URL_PATTERN + r"|/articles/[^\s()<>\"']+)\)", re.IGNORECASE)
_BARE = re.compile(r"(?<![(\w])(?:" + URL_PATTERN + r"|/articles/[^\s()<>\"'\[\]]+)", re.IGNORECASE)
TRAILING = ".,;:!?"


def article_id(url: str) -> str | None:
    """The article id a URL points at (`/articles/<id>` on any host), or None."""
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    match = re.fullmatch(r"/articles/([^/]+)/?", path)
    return unquote(match.group(1)) if match else None


@dataclass
class CleanedReply:
    body: str
    linked: list[str] = field(default_factory=list)   # public articles linked, in order
    removed: list[str] = field(default_factory=list)  # articles whose link was taken out


def clean_reply(body: str, audiences: Mapping[str, str]) -> CleanedReply:
    """`body` without links to any article that is not public (internal, draft or unknown: only the link text
    is kept), and the public articles it links. `audiences` maps article ids to their audience."""
    result = CleanedReply(body)

    def check(url: str) -> bool:
        """True when the link may stay."""
        target = article_id(url.rstrip(TRAILING))
        if target is None:
            return True
        if audiences.get(target) == "public":
            result.linked.append(target)
            return True
        result.removed.append(target)
        return False

    def markdown(match: re.Match) -> str:
        return match.group(0) if check(match.group(2)) else match.group(1)

    def bare(match: re.Match) -> str:
        url = match.group(0).rstrip(TRAILING)
        return match.group(0) if check(url) else REMOVED + match.group(0)[len(url):]

    text = _MD_LINK.sub(markdown, body)
    # Bare links outside the Markdown ones: split around what is left of [title](url) so neither is seen twice.
    parts, last = [], 0
    for match in _MD_LINK.finditer(text):
        parts.append(_BARE.sub(bare, text[last:match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_BARE.sub(bare, text[last:]))
    result.body = "".join(parts)
    return result
