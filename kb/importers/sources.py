"""Reading another tool's files: text in whatever encoding it was saved in, front matter in YAML or TOML, and ids
that are safe in kb (transliterated to ASCII)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml
from anyascii import anyascii

from kb.errors import KbError
from kb.importers.records import Notice

# Help centers are written in European languages and Cyrillic ones: guessing among these first keeps a short file
# from being read as some far-off code page.
LIKELY_ENCODINGS = ["utf_16", "cp1251", "koi8_r", "koi8_u", "cp866", "mac_cyrillic", "iso8859_5", "cp1252",
                    "iso8859_15", "cp1250", "iso8859_2"]
_NON_ID = re.compile(r"[^a-z0-9]+")


def safe_id(text: str, fallback: str = "page") -> str:
    """An id kb accepts, from a title or file name in any script: 'Сброс пароля' -> 'sbros-parolya'."""
    return _NON_ID.sub("-", anyascii(text).lower()).strip("-")[:80].strip("-") or fallback


def title_of(name: str) -> str:
    """A readable title from a file or folder name: 'getting-started' -> 'Getting started'."""
    words = re.sub(r"[-_]+", " ", name).strip()
    return words[:1].upper() + words[1:] if words else name


def read_text(path: Path, rel: str, notices: list[Notice]) -> str:
    """The file's text: UTF-8, else the encoding detected, else Latin-1; any fallback is reported."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
    from charset_normalizer import from_bytes

    best = from_bytes(raw, cp_isolation=LIKELY_ENCODINGS).best() or from_bytes(raw).best()
    encoding = best.encoding if best is not None else "latin-1"
    notices.append(Notice(rel, line, f"not UTF-8: read as {encoding} (check the converted text)"))
    return raw.decode(encoding, errors="replace")


class _LenientLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available: ten times faster
    """YAML with the tags of MkDocs configs (!ENV, !!python/name:...) read as plain values."""


def _any_tag(loader: Any, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


_LenientLoader.add_multi_constructor("!", _any_tag)
_LenientLoader.add_multi_constructor("tag:yaml.org,2002:python/", _any_tag)


def load_config(path: Path) -> dict[str, Any]:
    """A site's configuration file (YAML or TOML) as a mapping; {} when it is missing or empty."""
    if not path.is_file():
        return {}
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else yaml.load(text, Loader=_LenientLoader)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise KbError(f"{where}: cannot read the site's configuration: "
                      f"{getattr(exc, 'problem', None) or str(exc).splitlines()[0]}") from None
    return data if isinstance(data, dict) else {}


def split_page(text: str, rel: str, notices: list[Notice]) -> tuple[dict[str, Any], str, int]:
    """(front matter, body, body's first line): YAML between '---' lines or TOML between '+++' lines."""
    lines = text.splitlines(keepends=True)
    fence = lines[0].strip() if lines else ""
    if fence not in ("---", "+++"):
        return {}, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() == fence or (fence == "---" and lines[i].strip() == "..."):
            front = "".join(lines[1:i])
            try:
                data = tomllib.loads(front) if fence == "+++" else yaml.load(front, Loader=_LenientLoader)
            except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
                notices.append(Notice(rel, 1, f"front matter could not be read ({str(exc).splitlines()[0]}); "
                                              "the page is imported without it"))
                data = {}
            return (data if isinstance(data, dict) else {}), "".join(lines[i + 1:]), i + 2
    notices.append(Notice(rel, 1, "front matter is not closed; the whole file is read as the body"))
    return {}, text, 1


def texts(value: Any) -> list[str]:
    """A front-matter list of words: a list, or one string of space-separated words (Jekyll's `tags: a b`)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [v for v in value.split() if v]
    if isinstance(value, (list, tuple)):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [str(value)]


def text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def dump_yaml(data: Any) -> str:
    """YAML as kb's articles write it: keys in the given order, any script as it is, one line per value."""
    return yaml.dump(data, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True,
                     sort_keys=False, width=1000)
