"""Split an article body into sections at its headings, with the anchors the rendered page uses."""
from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape

from markdown.extensions.toc import slugify_unicode, unique

_HEADING_RE = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Section:
    """A part of an article under one heading; the text before the first heading has anchor ''.

    `path` is the chain of headings from the outermost enclosing one down to this section's own (empty before the
    first heading): a `###` under `## Enterprise Policies` has the path ('Enterprise Policies', 'Disable Send').
    """

    anchor: str
    heading: str
    text: str
    path: tuple[str, ...] = ()

    @property
    def heading_path(self) -> str:
        """The path as a reader sees it: 'Enterprise Policies › Disable Send'."""
        return PATH_SEPARATOR.join(self.path)


PATH_SEPARATOR = " › "


def slugify(heading: str) -> str:
    return slugify_unicode(heading, "-")


def split_sections(body: str) -> list[Section]:
    """Sections in order, one per heading of any level; empty ones dropped. Headings inside code fences are not
    headings. Anchors are the ids the rendered page gives its headings (Python-Markdown's toc extension)."""
    sections: list[Section] = []
    anchor, heading, lines = "", "", []
    used: set[str] = set()
    enclosing: list[tuple[int, str]] = []  # (level, heading) of the headings the current line is under
    in_fence = False

    def flush() -> None:
        text = "\n".join(lines).strip()
        if text or heading:
            sections.append(Section(anchor, heading, text, tuple(h for _, h in enclosing if h)))

    for line in body.splitlines():
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _HEADING_RE.match(line)
        if match:
            flush()
            level = len(match.group(1))
            heading = unescape(plain_text(match.group(2)))
            anchor = unique(slugify(heading), used)  # toc's own scheme: a repeated id gets _1, _2, ...
            while enclosing and enclosing[-1][0] >= level:
                enclosing.pop()
            enclosing.append((level, heading))
            lines = []
        else:
            lines.append(line)
    flush()
    return [s for s in sections if s.text or s.heading]


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
