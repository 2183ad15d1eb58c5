"""A short excerpt of the section a search landed on, with the query's words marked (HTML-escaped)."""
from __future__ import annotations

import re
from itertools import takewhile

from markupsafe import Markup, escape

from kb.index.pages import ArticlePage
from kb.sections import PATH_SEPARATOR

WIDTH = 220
_WORD = re.compile(r"\w{3,}", re.UNICODE)
_MARKDOWN = re.compile(r"[*`#]+|!?\[([^\]]*)\]\([^)]*\)")


def section_text(page: ArticlePage, anchor: str) -> str:
    """The text of the section at `anchor`; for a heading with no text of its own (a `##` directly followed by its
    `###`), the text of its sub-sections; the description (or the top) for the article's top."""
    sections = page.sections
    at = next((i for i, s in enumerate(sections) if anchor and s["anchor"] == anchor), None)
    if at is None:
        return page.meta.description or (sections[0]["text"] if sections else "")
    chosen = sections[at]
    if chosen["text"]:
        return chosen["text"]
    inside = chosen["path"] + PATH_SEPARATOR
    under = takewhile(lambda s: s["path"].startswith(inside), sections[at + 1:])
    return "\n\n".join(s["text"] for s in under if s["text"])


def snippet(page: ArticlePage, anchor: str, query: str, width: int = WIDTH) -> Markup:
    """Up to `width` characters of the matching section around the first query word, query words in <mark>."""
    text = " ".join(_MARKDOWN.sub(lambda m: m.group(1) or "", section_text(page, anchor)).split())
    words = sorted({w.casefold() for w in _WORD.findall(query or "")}, key=len, reverse=True)[:20]
    pattern = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE) if words else None
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - width // 3) if first else 0
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < start + 20 else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > start + width // 2 else end
    window = text[start:end]
    parts: list[str] = ["…" if start else ""]
    last = 0
    for match in (pattern.finditer(window) if pattern else ()):
        parts.append(str(escape(window[last:match.start()])))
        parts.append(f"<mark>{escape(match.group(0))}</mark>")
        last = match.end()
    parts.append(str(escape(window[last:])))
    parts.append("…" if end < len(text) else "")
    return Markup("".join(parts))
