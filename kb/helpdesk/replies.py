"""Links to articles in agents' replies: which public articles a reply links, and no link to any other.

A reply is plain text. Its links are what `kb.helpdesk.article_links.find_links` finds (the same tokens the customer's
tracker makes clickable): `[title](url "title")` (what the desk's composer inserts), `<url>`, bare http(s)
addresses and paths. A link that `article_ids` reads as showing an article must show public ones only, or it never
stays in a reply a customer reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from kb.helpdesk.article_links import MARKDOWN, article_ids, find_links

REMOVED = "[internal article: link removed]"
_REMOVED_IN_TITLE = REMOVED.strip("[]")  # a link title holds no brackets


@dataclass
class CleanedReply:
    body: str
    linked: list[str] = field(default_factory=list)   # public articles linked, in order
    removed: list[str] = field(default_factory=list)  # articles whose link was taken out


class _Audiences:
    """Which ids are public; an id is public only if every article whose id differs from it in case alone is."""

    def __init__(self, audiences: Mapping[str, str]) -> None:
        self.audiences = audiences
        self.folded: dict[str, list[str]] = {}
        for article_id in audiences:
            self.folded.setdefault(article_id.casefold(), []).append(article_id)

    def public(self, article_id: str) -> bool:
        return self.audiences.get(article_id) == "public" and all(
            self.audiences.get(other) == "public" for other in self.folded.get(article_id.casefold(), ()))


def _clean_once(text: str, audiences: _Audiences, marker: str, removed: list[str]) -> tuple[str, list[str]]:
    """One pass over the links in `text`: (text with every link to a non-public article replaced, the public
    articles its links show). A Markdown link keeps its title (itself cleaned); any other becomes `marker`."""
    parts, linked, last = [], [], 0
    for link in find_links(text):
        parts.append(text[last:link.start])
        last = link.end
        token = text[link.start:link.end]
        ids = article_ids(link.url)
        refused = [i for i in ids if not audiences.public(i)]
        if refused:
            removed.append(refused[0])  # the id a browser opens first, when that is the one refused
            parts.append(link.label if link.kind == MARKDOWN else marker)
            continue
        linked.extend(ids[:1])
        if link.kind == MARKDOWN:
            label = _clean(link.label or "", audiences, _REMOVED_IN_TITLE, removed)[0]
            token = f"[{label}]" + token[len(link.label or "") + 2:]
        parts.append(token)
    parts.append(text[last:])
    return "".join(parts), linked


def _clean(text: str, audiences: _Audiences, marker: str, removed: list[str]) -> tuple[str, list[str]]:
    """Passes until one changes nothing, so the result holds no link that was not checked: taking a link out
    can join what is left into a new one (`[[x](internal)](public)`, `text(url)` after a removed address).
    Each pass that changes the text shortens it or takes out a slash, backslash or `%` (or a character that
    stands for one), so this ends."""
    while True:
        cleaned, linked = _clean_once(text, audiences, marker, removed)
        if cleaned == text:
            return text, linked
        text = cleaned


def clean_reply(body: str, audiences: Mapping[str, str]) -> CleanedReply:
    """`body` without links to any article that is not public (internal, draft or unknown: only the link text
    is kept), and the public articles it links. `audiences` maps article ids to their audience."""
    removed: list[str] = []
    text, linked = _clean(body or "", _Audiences(audiences), REMOVED, removed)
    return CleanedReply(text, linked, removed)
