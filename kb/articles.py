"""The article model: Markdown files with YAML front matter, parsed with line numbers for every problem."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KNOWN_KEYS = ("title", "category", "id", "questions", "tags", "audience", "lang", "status",
              "description", "related", "featured", "aliases")
AUDIENCES = ("public", "internal")
STATUSES = ("published", "draft")
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Problem:
    """One finding of `kb check`: where it is and what is wrong."""

    path: str
    line: int
    message: str
    level: str = "error"  # or "warning"

    @property
    def is_error(self) -> bool:
        return self.level == "error"

    def __str__(self) -> str:
        prefix = "" if self.is_error else "warning: "
        return f"{self.path}:{self.line}: {prefix}{self.message}"


@dataclass(frozen=True)
class Article:
    """A parsed article. `body_line` is the file line where the Markdown body starts."""

    id: str
    title: str
    category: str
    body: str
    path: str
    lang: str = "en"
    audience: str = "public"
    status: str = "published"
    description: str = ""
    questions: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    featured: bool = False
    aliases: tuple[str, ...] = ()  # old addresses (paths such as /2019/03/reset.html) answered with a redirect
    extra: dict[str, Any] = field(default_factory=dict)
    body_line: int = 1
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Hash of everything that reaches the index, so an unchanged article is recognised."""
        h = hashlib.sha256()
        for part in (self.id, self.title, self.category, self.lang, self.audience, self.status,
                     self.description, "\x1f".join(self.questions), "\x1f".join(self.tags),
                     "\x1f".join(self.related), str(self.featured), self.body,
                     *(("\x1f".join(self.aliases),) if self.aliases else ())):  # older hashes stay as they were
            h.update(part.encode("utf-8"))
            h.update(b"\x1e")
        return h.hexdigest()

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, 1)


@dataclass(frozen=True)
class Category:
    id: str
    title: str
    description: str = ""


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: ten times faster


def load_yaml(text: str) -> tuple[Any, yaml.Node | None]:
    """The data and its node tree (for the line of each key), parsed once. Raises yaml.YAMLError."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def normalise_alias(path: str) -> str:
    """The form an old address is stored and matched in: the path alone, without a trailing slash or index page
    (`/docs/reset/`, `/docs/reset/index.html` and `/docs/reset` are one address)."""
    path = path.split("#", 1)[0].split("?", 1)[0].strip()
    for index in ("index.html", "index.htm"):
        if path.endswith("/" + index):
            path = path[:-len(index)]
    return "/" + path.strip("/") if path.strip("/") else "/"


def _line_of_offset(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


def split_front_matter(text: str) -> tuple[str, str, int] | None:
    """(front matter, body, body's first line) or None when the text has no front matter block."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None
    for i in range(1, len(lines)):
        if lines[i].strip() in ("---", "..."):
            return "".join(lines[1:i]), "".join(lines[i + 1:]), i + 2
    return None


def parse_article(path: Path, rel: str, *, default_lang: str, max_bytes: int,
                  strict: bool = False) -> tuple[Article | None, list[Problem]]:
    """Parse one file into an Article; every problem found is returned, none raised."""
    problems: list[Problem] = []

    def err(line: int, message: str, level: str = "error") -> None:
        problems.append(Problem(rel, line, message, level))

    try:
        raw = path.read_bytes()
    except OSError as exc:
        err(1, f"cannot read file: {exc.strerror}")
        return None, problems
    if len(raw) > max_bytes:
        err(1, f"file is {len(raw) / 1024:.0f} KiB, over the {max_bytes // 1024} KiB limit; split it into smaller articles")
        return None, problems
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        err(_line_of_offset(raw, exc.start),
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); save the file as UTF-8")
        return None, problems
    text = text.removeprefix("\ufeff")
    parts = split_front_matter(text)
    if parts is None:
        if text.lstrip().startswith("---"):
            err(1, "front matter is not closed: add a line with '---' after it")
        else:
            err(1, "missing YAML front matter: start the file with '---', the fields, then '---'")
        return None, problems
    front_text, body, body_line = parts
    try:
        data, node = load_yaml(front_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context_mark", None)
        if context is not None and (mark is None or mark.line >= front_text.count("\n")):
            mark = context  # "got end of stream": the line that opened the unclosed thing is the useful one
        line = mark.line + 2 if mark is not None else 1
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        err(line, f"invalid YAML in front matter: {reason}")
        return None, problems
    if not isinstance(data, dict):
        err(2 if data is not None else 1, "front matter must be a mapping of 'key: value' lines")
        return None, problems
    key_lines = {str(k.value): k.start_mark.line + 2 for k, _ in node.value} if isinstance(node, yaml.MappingNode) else {}

    def line(key: str) -> int:
        return key_lines.get(key, 1)

    def text_field(key: str, required: bool = False) -> str:
        value = data.get(key)
        if value is None:
            if required:
                err(1, f"missing required field '{key}'")
            return ""
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            err(line(key), f"field '{key}' must be text")
            return ""
        value = str(value).strip()
        if required and not value:
            err(line(key), f"field '{key}' is empty")
        return value

    def list_field(key: str) -> tuple[str, ...]:
        value = data.get(key)
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                                  for v in value):
            err(line(key), f"field '{key}' must be a list of texts")
            return ()
        items = tuple(str(v).strip() for v in value if str(v).strip())
        if len(items) != len(value):
            err(line(key), f"field '{key}' has an empty entry")
        return items

    def choice_field(key: str, allowed: tuple[str, ...]) -> str:
        value = text_field(key)
        if not value:
            return allowed[0]
        if value not in allowed:
            err(line(key), f"field '{key}' is {value!r}; use one of: {', '.join(allowed)}")
            return allowed[0]
        return value

    title = text_field("title", required=True)
    category = text_field("category", required=True)
    article_id = text_field("id") or Path(rel).stem
    if not _ID_RE.match(article_id):
        err(line("id"), f"id {article_id!r} may only contain letters, digits, '-', '_' and '.'")
    lang = text_field("lang") or default_lang
    if not _LANG_RE.match(lang):
        err(line("lang"), f"field 'lang' is {lang!r}; use a language code such as en, ru, uk")
    featured = data.get("featured", False)
    if not isinstance(featured, bool):
        err(line("featured"), "field 'featured' must be true or false")
        featured = False
    extra = {k: v for k, v in data.items() if str(k) not in KNOWN_KEYS}
    if strict:
        for key in extra:
            err(line(str(key)), f"unknown field '{key}' (known: {', '.join(KNOWN_KEYS)})", "warning")
    aliases = list_field("aliases")
    for alias in aliases:
        if not alias.startswith("/") or "://" in alias or any(c.isspace() for c in alias) or alias == "/":
            err(line("aliases"), f"alias {alias!r} must be an address path on this site, such as /old/page.html")
    if not body.strip():
        err(min(body_line, len(text.splitlines())),
            "article body is empty: write the answer below the front matter")
    article = Article(
        id=article_id, title=title, category=category, body=body, path=rel, lang=lang,
        audience=choice_field("audience", AUDIENCES), status=choice_field("status", STATUSES),
        description=text_field("description"), questions=list_field("questions"), tags=list_field("tags"),
        related=list_field("related"), featured=featured, aliases=tuple(normalise_alias(a) for a in aliases),
        extra=extra, body_line=body_line, key_lines=key_lines,
    )
    return article, problems


def load_categories(path: Path, rel: str) -> tuple[dict[str, Category], list[Problem]]:
    """Read categories.yml: a mapping `category-id: {title: ..., description: ...}`."""
    problems: list[Problem] = []
    if not path.is_file():
        return {}, [Problem(rel, 1, "categories file is missing: declare categories as 'id: {title: ..., description: ...}'")]
    try:
        text = path.read_text(encoding="utf-8")
        data, node = load_yaml(text)
    except UnicodeDecodeError:
        return {}, [Problem(rel, 1, "not valid UTF-8; save the file as UTF-8")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return {}, [Problem(rel, mark.line + 1 if mark else 1, f"invalid YAML: {getattr(exc, 'problem', exc)}")]
    if not isinstance(data, dict) or not data:
        return {}, [Problem(rel, 1, "must be a non-empty mapping of category id to {title, description}")]
    lines = {str(k.value): k.start_mark.line + 1 for k, _ in node.value}
    categories: dict[str, Category] = {}
    for key, value in data.items():
        key = str(key)
        if not isinstance(value, dict) or not isinstance(value.get("title"), str) or not value["title"].strip():
            problems.append(Problem(rel, lines.get(key, 1), f"category '{key}' needs a 'title'"))
            continue
        categories[key] = Category(key, value["title"].strip(), str(value.get("description") or "").strip())
    return categories, problems
