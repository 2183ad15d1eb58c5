"""Split an article body into sections at its headings, with the anchors the rendered page uses."""
from __future__ import annotations

import re
from dataclasses import dataclass

from markdown.extensions.toc import slugify_unicode

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Section:
    """A part of an article under one heading; the text before the first heading has anchor ''."""

    anchor: str
    heading: str
    text: str


def slugify(heading: str) -> str:
    return slugify_unicode(heading, "-")


def split_sections(body: str) -> list[Section]:
    """Sections in order; empty ones dropped. Headings inside code fences are not headings."""
    sections: list[Section] = []
    anchor, heading, lines = "", "", []
    used: dict[str, int] = {}
    in_fence = False

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text or heading:
            sections.append(Section(anchor, heading, text))

    for line in body.splitlines():
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING_RE.match(line)
        if match:
            flush()
            heading = plain_text(match.group(2))
            anchor = _unique(slugify(heading), used)
            lines = []
        else:
            lines.append(line)
    flush()
    return [s for s in sections if s.text or s.heading]


def _unique(slug: str, used: dict[str, int]) -> str:
    # Same scheme as Python-Markdown's toc extension: a repeated slug gets _1, _2, ...
    if slug in used:
        used[slug] += 1
        return f"{slug}_{used[slug]}"
    used[slug] = 0
    return slug


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(\*\*|__|`+|~~|^\s{0,3}>\s?|^\s*[-*+]\s+|^\s*\d+[.)]\s+|^#+\s*)", re.MULTILINE)
_HTML_TAG = re.compile(r"<[^>]+>")


def plain_text(markdown_text: str) -> str:
    """Markdown reduced to the words a reader sees, for embedding and keyword indexing."""
    text = _MD_LINK.sub(r"\1", markdown_text)
    text = _HTML_TAG.sub(" ", text)
    text = _MD_MARKS.sub("", text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def chunk_words(text: str, max_words: int) -> list[str]:
    """Split text into chunks of at most max_words words, preferring paragraph boundaries."""
    words_total = len(text.split())
    if words_total <= max_words:
        return [text] if text else []
    chunks: list[str] = []
    current: list[str] = []
    count = 0
    for para in re.split(r"\n\s*\n", text):
        words = para.split()
        while words:
            room = max_words - count
            if room <= 0:
                chunks.append(" ".join(current))
                current, count = [], 0
                room = max_words
            if len(words) <= room or count == 0:
                take = words[:room]
                words = words[room:]
                current.extend(take)
                count += len(take)
            else:
                chunks.append(" ".join(current))
                current, count = [], 0
    if current:
        chunks.append(" ".join(current))
    return chunks
