"""What a file is, told from its bytes, never from its name, and a display name whose extension agrees.

Binary formats are recognised by their signatures with `filetype` (wrapped here and nowhere else): it reads the
first 8 KiB only (an archive is never opened, a zip bomb never inflated) and answers one MIME type per format, in
a fixed order (a .docx is a docx before it is a zip). Why not `puremagic`: for the same bytes it ranks several
candidates (a plain zip came out as a .docx first) and answers no MIME type at all for a Windows executable or an
ELF binary, and its current major version no longer installs on our Python. Neither knows text: text and markup
are told apart here, and markup that a browser would run (HTML, SVG, XML) is never taken for plain text.
"""
from __future__ import annotations

import re
import unicodedata

import filetype

OCTET_STREAM = "application/octet-stream"
PLAIN_TEXT = "text/plain"
HTML, SVG, XML = "text/html", "image/svg+xml", "application/xml"
MARKUP = (HTML, SVG, XML)
IMAGES = ("image/png", "image/jpeg", "image/gif", "image/webp")

# Types an allow-list may name: their extensions (the first is the one a name gets when its own disagrees) and
# what people call them.
KNOWN: dict[str, tuple[tuple[str, ...], str]] = {
    "image/png": (("png",), "PNG"),
    "image/jpeg": (("jpg", "jpeg", "jfif"), "JPEG"),
    "image/gif": (("gif",), "GIF"),
    "image/webp": (("webp",), "WebP"),
    "image/bmp": (("bmp",), "BMP"),
    "image/tiff": (("tif", "tiff"), "TIFF"),
    "image/heic": (("heic",), "HEIC"),
    "application/pdf": (("pdf",), "PDF"),
    PLAIN_TEXT: (("txt", "log", "csv", "tsv", "text", "json", "ini", "conf", "cfg", "yaml", "yml", "md"),
                 "text (.txt, .log, .csv…)"),
    "application/zip": (("zip",), "ZIP"),
    "application/gzip": (("gz",), "gzip"),
    "application/x-7z-compressed": (("7z",), "7-Zip"),
    "application/x-tar": (("tar",), "tar"),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (("docx",), "Word (.docx)"),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (("xlsx",), "Excel (.xlsx)"),
    "application/vnd.oasis.opendocument.text": (("odt",), "OpenDocument text"),
    "application/vnd.oasis.opendocument.spreadsheet": (("ods",), "OpenDocument spreadsheet"),
}

_TEXT_SAMPLE = 64 * 1024
_MARKUP_SAMPLE = 4096
_MARKUP_RE = re.compile(rb"<\s*(!doctype\s+html|html|head|body|script|iframe|object|embed|svg|\?xml|meta|"
                        rb"!\[cdata\[|[a-z]+:svg)\b", re.IGNORECASE)
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")
# Characters a display name never keeps: controls, bidirectional overrides (which make `gpj.exe` read as
# `exe.jpg`), path and shell-hostile punctuation.
_NAME_DROP = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_NAME_REPLACE = re.compile(r'[<>:"/\\|?*\'`$;&]')
_EXTENSION_RE = re.compile(r"^(.+)\.([A-Za-z0-9]{1,8})$")
NAME_MAX = 120


def parse_types(value: str) -> tuple[str, ...]:
    """The MIME types an allow-list names (comma- or space-separated); ValueError for an unknown or unsafe one."""
    types = tuple(dict.fromkeys(t.strip().lower() for t in re.split(r"[,\s]+", value or "") if t.strip()))
    unsafe = [t for t in types if t in MARKUP]
    if unsafe:
        raise ValueError(f"must not allow {', '.join(unsafe)}: a browser runs the scripts such files carry")
    unknown = [t for t in types if t not in KNOWN]
    if unknown:
        raise ValueError(f"names unknown type(s) {', '.join(unknown)}; known: {', '.join(KNOWN)}")
    return types


# What people call some types no allow-list may name, for the messages that refuse them.
_REFUSED_NAMES = {"application/x-msdownload": "a Windows program", "application/x-executable": "a Linux program",
                  HTML: "HTML", SVG: "SVG", XML: "XML", OCTET_STREAM: "data of no known type"}


def describe(mime: str) -> str:
    """What people call a type ("PNG", "PDF", "a Windows program"), or the MIME type itself."""
    if mime in KNOWN:
        return KNOWN[mime][1]
    return _REFUSED_NAMES.get(mime, mime)


def sniff(data: bytes) -> str:
    """The MIME type of `data` by its content: a known signature, else markup (HTML, SVG, XML), else plain text,
    else `application/octet-stream`."""
    kind = filetype.guess(data[:8192]) if data else None
    if kind is not None:
        return kind.mime
    if _looks_like_text(data):
        return _markup_type(data) or PLAIN_TEXT
    return OCTET_STREAM


def _looks_like_text(data: bytes) -> bool:
    sample = data[:_TEXT_SAMPLE]
    if not sample or b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # a character cut at the sample's end is not an error
            return False
    return len(_CONTROL_BYTES.findall(sample)) * 100 <= len(sample)


def _markup_type(data: bytes) -> str | None:
    """HTML, SVG or XML when markup shows in the first 4 KiB, or anywhere in a text that starts as markup does
    (a long comment before an `<svg>` hides nothing)."""
    text = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    head = text if text.startswith(b"<") else text[:_MARKUP_SAMPLE]
    found = _MARKUP_RE.search(head)
    if found is None:
        return None
    tag = found.group(1).lower()
    if b"svg" in tag or re.search(rb"<\s*svg\b", head, re.IGNORECASE):
        return SVG
    return XML if tag.startswith(b"?xml") else HTML


def clean_name(filename: str) -> str:
    """`filename` as it may be shown: the last path part, without controls, bidirectional overrides or path
    punctuation, at most NAME_MAX characters (empty when nothing is left)."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _NAME_REPLACE.sub("_", _NAME_DROP.sub("", name)).strip(" .")
    return name if len(name) <= NAME_MAX else name[:NAME_MAX - 9] + "…" + name[-8:]


def display_name(filename: str, mime: str) -> str:
    """`clean_name(filename)` with an extension that is one of `mime`'s (a PNG named `photo.exe` becomes
    `photo.png`), for showing and downloading a stored file."""
    name = clean_name(filename)
    extensions = KNOWN.get(mime, ((),))[0]
    match = _EXTENSION_RE.match(name)
    stem, extension = (match.group(1), match.group(2)) if match else (name, "")
    stem = stem.strip(" .") or "file"
    if extension.lower() in extensions:
        extension = extension.lower()
    elif extensions:
        extension = extensions[0]
    else:
        extension = "bin"
    return f"{stem[:NAME_MAX - len(extension) - 1]}.{extension}"
