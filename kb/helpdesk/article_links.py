"""Links in plain text, and which article a link shows: one tokenizer and one URL reader for replies.

`find_links` is the only place that decides what in a reply is a link: the check that takes links to non-public
articles out of agents' replies (kb/replies.py) and the HTML that makes links clickable (web/linkify.py) both
use it, so nothing becomes clickable that the check did not see. `article_ids` reads a URL the way browsers,
proxies and the server may (percent-decoding, repeated; any case; backslashes as slashes; dot segments and
doubled slashes; any host; `/articles/<id>`, `/desk/articles/<id>`, a path after a query's `next=`...) and
answers every article id it might show. `http_href` is the only address a clickable link may carry: an http(s)
URL written out the way a browser would read it, so the browser opens what `article_ids` judged.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote, unquote

TRAILING = ".,;:!?"  # punctuation after a bare address ends the sentence, not the address
MARKDOWN, AUTOLINK, URL, PATH = "markdown", "autolink", "url", "path"

_LABEL = r"[^\[\]\n]{1,300}"
_DEST = r"<(?P<angle>[^<>\n]*)>|(?P<dest>(?:[^\s()<>]|\([^\s()<>]*\))+)"
_TITLE = r"""(?:"[^"\n]*"|'[^'\n]*'|\([^()\n]*\))"""
_ADDRESS = r"[^\s<>\"'\[\]()]+"
_TOKENS = re.compile(
    r"\[(?P<label>" + _LABEL + r")\][ \t]*\([ \t]*(?:" + _DEST + r")(?:[ \t]+" + _TITLE + r")?[ \t]*\)"
    r"|<(?P<auto>[a-z][a-z0-9+.\-]{1,31}:[^\s<>]*)>"
    r"|(?<![a-z0-9+.\-])(?P<url>https?:" + _ADDRESS + r")"
    r"|(?<![\w/\\])(?P<path>[/\\]" + _ADDRESS + r")",
    re.IGNORECASE)

_IGNORED = re.compile(r"[\t\n\r]")  # browsers drop these anywhere in a URL
_C0_SPACE = "".join(map(chr, range(0x21)))
_SPECIAL = re.compile(r"(https?):", re.IGNORECASE)
_HOST = re.compile(r"(?:[\w\-.~]+|\[[0-9a-f:.]+\])(?::[0-9]{0,5})?", re.IGNORECASE)
_PIECES = re.compile(r"[?#&=]")
_PARAMS = re.compile(r";[^/\\]*")
_ID_END = re.compile(r"[?#]")
_ID_PARAMS = re.compile(r"[;&=\s]")
_SINGLE_DOT = {".", "%2e"}
_DOUBLE_DOT = {"..", ".%2e", "%2e.", "%2e%2e"}
_DECODE_PASSES = 16
_UNRESOLVED = ""  # stands for an article id that cannot be read: never public


@dataclass(frozen=True)
class Link:
    """One link in a text: `text[start:end]` is the whole token, `url` its target as written."""
    start: int
    end: int
    kind: str  # MARKDOWN `[label](url "title")`, AUTOLINK `<url>`, URL `https://...`, PATH `/...` (never clickable)
    url: str
    label: str | None = None


def find_links(text: str) -> list[Link]:
    """Every link in `text`, left to right; bare addresses without trailing sentence punctuation."""
    links = []
    for match in _TOKENS.finditer(text or ""):
        start, end = match.span()
        if match.group("label") is not None:
            url = match.group("angle") if match.group("angle") is not None else match.group("dest")
            links.append(Link(start, end, MARKDOWN, url, match.group("label")))
        elif match.group("auto") is not None:
            links.append(Link(start, end, AUTOLINK, match.group("auto")))
        else:
            kind = URL if match.group("url") is not None else PATH
            url = match.group(0).rstrip(TRAILING)
            if url:
                links.append(Link(start, start + len(url), kind, url))
    return links


def _resolve(segments: list[str]) -> list[str]:
    """Dot segments resolved the way browsers do (`%2e` counts as a dot)."""
    out: list[str] = []
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        lowered = segment.lower()
        if lowered in _DOUBLE_DOT:
            if out:
                out.pop()
            if last:
                out.append("")
        elif lowered in _SINGLE_DOT:
            if last:
                out.append("")
        else:
            out.append(segment)
    return out


def _decode(text: str) -> tuple[str, bool]:
    """`text` percent-decoded until nothing changes, backslashes as slashes; False when it never settles."""
    for _ in range(_DECODE_PASSES):
        decoded = unquote(text).replace("\\", "/")
        if decoded == text:
            return text, True
        text = decoded
    return text, False


def _split(url: str) -> tuple[str, str, str, str] | None:
    """(scheme, authority, path, rest) of an http(s) or relative URL as a browser splits it; rest starts with
    `?` or `#` or is empty. None for another scheme."""
    url = _IGNORED.sub("", url.strip(_C0_SPACE))
    scheme = _SPECIAL.match(url)
    if scheme:
        rest = url[scheme.end():].lstrip("/\\")  # browsers skip any slashes after http(s):
    elif re.match(r"[a-z][a-z0-9+.\-]*:", url, re.IGNORECASE):
        return None
    elif url[:2] in ("//", "\\\\", "/\\", "\\/"):
        rest = url[2:]
    else:
        return "", "", *_split_tail(url)
    end = next((i for i, c in enumerate(rest) if c in "/\\?#"), len(rest))
    return (scheme.group(1).lower() if scheme else ""), rest[:end], *_split_tail(rest[end:])


def _split_tail(tail: str) -> tuple[str, str]:
    end = next((i for i, c in enumerate(tail) if c in "?#"), len(tail))
    return tail[:end], tail[end:]


def _views(text: str) -> list[list[str]]:
    """The path segments `text` may stand for: as written and with dot segments resolved, with and without its
    empty segments (servers merge doubled slashes), empty segments dropped in the answer."""
    views = []
    # A decoded tab is a character to a server; some servers drop `;params` from every segment (`..;/`).
    for spelled in dict.fromkeys((text, _IGNORED.sub("", text), _PARAMS.sub("", text))):
        segments = spelled.replace("\\", "/").split("/")
        for chosen in (segments, [s for s in segments if s]):
            views.append([s for s in chosen if s])
            views.append([s for s in _resolve(chosen) if s])
    return views


def _is_articles(segment: str) -> bool:
    """`articles` in any case, also with `;params`, surrounding spaces or trailing dots."""
    name = _ID_END.split(segment, 1)[0].split(";", 1)[0]
    return name.strip().rstrip(". ").casefold() == "articles"


def _id_readings(segment: str) -> list[str]:
    """What a server may take as the id in `.../articles/<segment>`: the query and fragment never count."""
    segment = _ID_END.split(segment, 1)[0]
    return [segment, segment.strip(), _ID_PARAMS.split(segment, 1)[0], segment.strip().rstrip(". ")]


def _ids_in(text: str, found: dict[str, None]) -> None:
    for view in _views(text):
        for i, segment in enumerate(view[:-1]):
            if _is_articles(segment):
                found.update(dict.fromkeys(_id_readings(view[i + 1])))


def article_ids(url: str) -> list[str]:
    """Every article id `url` may show, the one a browser and this server open first; [] when it shows none.

    Any host counts, and any path with an `articles` segment followed by another (`/articles/<id>`, its history,
    `/desk/articles/<id>`, behind a path prefix), read with percent-decoding repeated, in any case, backslashes as
    slashes, dot segments resolved and doubled slashes merged, and also inside the query (a redirect target).
    An id that cannot be read is "" (never an article), so such a link counts as one to a non-public article.
    """
    found: dict[str, None] = {}
    for written in dict.fromkeys((url, http_href(url) or url)):  # as written, and as a clickable link carries it
        parts = _split(written)
        if parts is not None:  # the path a browser asks for (dot segments resolved), as the server decodes it
            path = parts[2].replace("\\", "/")
            _ids_in(_decode("/".join(_resolve(path.split("/"))))[0], found)
            _ids_in(_decode(path)[0], found)
        decoded, settled = _decode(written)
        if not settled:
            found[_UNRESOLVED] = None
        for text in dict.fromkeys((written, decoded, unicodedata.normalize("NFKC", decoded))):
            _ids_in(text, found)
            for piece in _PIECES.split(text):
                _ids_in(piece, found)
    return list(found)


def _encode(text: str) -> str:
    """Spaces, controls, quotes, angle brackets, backticks, braces and non-ASCII percent-encoded; `%` kept."""
    return quote(text, safe="".join(chr(c) for c in range(0x21, 0x7f) if chr(c) not in "\"<>`{}"))


def http_href(url: str) -> str | None:
    """The address a clickable link to `url` carries: an http(s) URL with a host and no user name, written out as
    a browser reads it (scheme and host in lower case, backslashes as slashes, dot segments resolved, unsafe
    characters percent-encoded); None for anything else (other schemes, relative or malformed addresses)."""
    parts = _split(url)
    if parts is None or not parts[0]:
        return None
    scheme, authority, path, rest = parts
    if not _HOST.fullmatch(authority):
        return None
    segments = _resolve(path.replace("\\", "/").split("/")[1:]) if path else [""]
    return f"{scheme}://{authority.lower()}/{_encode('/'.join(segments))}{_encode(rest)}"
