"""Closing the loop between tickets and articles: a draft article written from a ticket, and new `questions` for
articles proposed from the phrasings that ended with them (a "This solved my problem" or a resolved ticket an
agent answered with the article's link). Drafts are written as `status: draft` for an editor to finish;
proposed questions are a unified diff of the front matter, printed for review and never applied here."""
from __future__ import annotations

import difflib
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.articles import Article, load_yaml, split_front_matter
from kb.check import load_help_center
from kb.config import Settings
from kb.errors import KbError, TicketError
from kb.helpdesk.db import open_database
from kb.helpdesk.models import AGENT, EVENT_REPLY, RESOLVED, Deflection, Ticket, TicketArticle
from kb.helpdesk.tickets import find_ticket, normalise_ref
from kb.language import query_language
from kb.scaffold import slugify
from kb.translations import keyed

MAX_QUESTION = 150  # longer texts are descriptions, not the way customers ask
GENERAL_CATEGORIES = ("general", "other", "misc")
_TRAILING = ".,;:!…-–— "
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n")
_PRIVATE = re.compile(r"\S+@\S+\.\w+|https?://|www\.", re.IGNORECASE)  # addresses never become questions
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LANG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")  # as `kb new` takes it


class _IndentedDumper(yaml.SafeDumper):
    """yaml.safe_dump's dumper (plain types only), with block lists indented under their key (`questions:` then
    `  - ...`), as the articles are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def clean_phrasing(text: str) -> str:
    """`text` on one line, spaces collapsed, trailing sentence punctuation dropped ('?' kept); '' when it is
    too long to be a question or holds an e-mail or web address."""
    text = text or ""
    if not text.isprintable():  # line breaks, tabs, control characters
        text = "".join(c if c.isprintable() else " " for c in text)
    text = " ".join(text.split()).rstrip(_TRAILING)
    if len(text) > MAX_QUESTION or _PRIVATE.search(text):
        return ""
    return text


def fold(text: str) -> str:
    """What tells two phrasings apart: not case, spacing or final punctuation."""
    return " ".join(text.casefold().split()).rstrip(_TRAILING + "?")


def _unique(phrasings: list[str]) -> dict[str, str]:
    """The cleaned phrasings, each once (the first spelling kept), by their folded form."""
    seen: dict[str, str] = {}
    for text in map(clean_phrasing, phrasings):
        if text:
            seen.setdefault(fold(text), text)
    return seen


def first_sentence(text: str) -> str:
    return next((part for part in _SENTENCE_END.split((text or "").strip()) if part.strip()), "")


def letters_language(text: str) -> str | None:
    """'uk', 'ru' or 'bg' when the Cyrillic letters say so; None for any other text."""
    return query_language(text) if _CYRILLIC.search(text or "") else None


@dataclass(frozen=True)
class Draft:
    """A draft written from a ticket: where, under which id and category, and what the editor must check."""

    path: Path
    article_id: str
    category: str
    lang: str
    questions: tuple[str, ...]
    notes: tuple[str, ...] = ()


def _searched_query(ticket: Ticket) -> str:
    """What the customer searched before filing, unless it is only the form's subject and description joined."""
    query = str((ticket.deflection or {}).get("query") or "")
    joined = " ".join(f"{ticket.subject} {ticket.description}".split())
    return "" if fold(query) == fold(joined) else query


def _choose_category(ticket: Ticket, declared: list[str]) -> tuple[str, str]:
    """(category, note): the ticket's category, else its predicted one, else a general one or the first declared."""
    for candidate in (ticket.category, ticket.predicted_category):
        if candidate and candidate in declared:
            return candidate, ""
    fallback = next((c for c in GENERAL_CATEGORIES if c in declared), declared[0])
    given = ticket.category or ticket.predicted_category
    reason = f"the ticket's category '{given}' is not declared" if given else "the ticket has no category"
    return fallback, f"category: {reason}; '{fallback}' was set: choose the right one"


def _comment(text: str) -> str:
    """`text` safe inside an HTML comment (no `--`, which would end or break it)."""
    return re.sub(r"-{2,}", "-", text)


def _body(ticket: Ticket, notes: list[str]) -> str:
    replies = [e.body.strip() for e in ticket.events
               if e.kind == EVENT_REPLY and e.author_kind == AGENT and e.body.strip()]
    todo = [f"Draft written from ticket {ticket.ref}. To finish it: write the steps, the description and an "
            "introduction in your own words, take out anything personal from the customer's text, then remove "
            "this comment and set status: published.", *notes]
    problem = "\n".join(f"> {line}".rstrip() for line in ticket.description.strip().splitlines())
    steps = "\n\n".join(replies) if replies else "1. The first thing to do.\n2. The next thing."
    return ("<!--\n" + "\n".join(_comment(line) for line in todo) + "\n-->\n\n"
            f"## Problem\n\nAs the customer described it:\n\n{problem}\n\n## Steps\n\n{steps}\n")


def draft_language(text: str, lang: str | None, default_lang: str, notes: list[str], source: str) -> str:
    """`lang` checked, or else told from `text`'s letters (a note added when they tell none), else the default."""
    if lang is None:
        lang = letters_language(text) or default_lang
        if _CYRILLIC.search(text) and letters_language(text) is None:
            notes.append(f"lang: the {source} is written in Cyrillic letters that tell no language; '{lang}' was "
                         "set: set the article's language")
    lang = lang.strip().lower()
    if not _LANG.fullmatch(lang):
        raise KbError(f"lang '{lang}': use a language code such as en, ru, uk or bg")
    return lang


def draft_from_ticket(ticket: Ticket, settings: Settings, lang: str | None = None) -> Draft:
    """Write a new `status: draft` article from `ticket` (its events loaded) into the articles folder and return
    what was written. Its questions are the customer's phrasings (subject, searched query, the description's first
    sentence), its steps the agents' replies; it never overwrites a file. Raises KbError when the folder has no
    categories or the written draft would not pass `kb check` (it is then removed)."""
    root = settings.articles_dir
    center = load_help_center(root, settings)
    if not center.categories:
        raise KbError(f"{root}: no categories found (categories.yml is missing or empty)")
    notes: list[str] = []
    category, note = _choose_category(ticket, list(center.categories))
    notes += [note] if note else []
    lang = draft_language(f"{ticket.subject} {ticket.description}", lang, settings.default_lang, notes, "ticket")
    title = clean_phrasing(ticket.subject) or " ".join(ticket.subject.split())[:MAX_QUESTION] or ticket.ref
    title = title[:1].upper() + title[1:]
    questions = list(_unique([ticket.subject, _searched_query(ticket), first_sentence(ticket.description)]).values())
    return write_article_draft(settings, center, title, category, lang, questions, _body(ticket, notes), notes,
                               ticket.ref)


def write_article_draft(settings: Settings, center, title: str, category: str, lang: str, questions: list[str],
                        body: str, notes: list[str], source: str) -> Draft:
    """Write a new `status: draft` article (never over a file; `center`: the folder's help center as loaded) and
    return it; `source` names what it was written from. Raises KbError when the written draft would not pass
    `kb check` (it is then removed)."""
    root = settings.articles_dir
    front = {"title": title, "category": category}
    if lang != settings.default_lang:
        front["lang"] = lang
    front.update({"status": "draft", "description": "TODO: one sentence: what this article helps with.",
                  "questions": questions, "tags": []})
    folder = root / (category if lang == settings.default_lang else lang)
    content = ("---\n" + yaml.dump(front, Dumper=_IndentedDumper, allow_unicode=True, sort_keys=False, width=1000) + "---\n"
               + body)
    path = _write_new(folder, slugify(title) + ("" if lang == settings.default_lang else f"-{lang}"),
                      {a.id for a in center.articles}, content)
    written = load_help_center(root, settings)
    rel = str(Path(root) / path.relative_to(root).as_posix())
    errors = [p for p in written.errors if p.path == rel]
    if errors:
        path.unlink()
        raise KbError(f"the draft from {source} would not pass kb check: " + "; ".join(map(str, errors)))
    return Draft(path, path.stem, category, lang, tuple(questions), tuple(notes))


def write_draft(settings: Settings, database_url: str, ref: str, lang: str | None = None) -> Draft:
    """`kb draft-from-ticket`: the draft from the ticket `ref` of the database at `database_url`."""
    engine, sessions = open_database(database_url)
    with sessions() as db:
        ticket = find_ticket(db, ref)
        if ticket is None:
            raise TicketError(f"no ticket {normalise_ref(ref)!r} in {engine.url.render_as_string(hide_password=True)}")
        return draft_from_ticket(ticket, settings, lang)


def _write_new(folder: Path, base: str, taken: set[str], content: str) -> Path:
    """Write `content` to a new file `folder/base.md`, or `base-2.md`, `base-3.md`... when that file or article id
    exists (also when another writer creates it meanwhile); returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    name, n = base, 2
    while True:
        path = folder / f"{name}.md"
        if name not in taken:
            try:
                with open(path, "x", encoding="utf-8") as out:  # never overwrite
                    out.write(content)
                return path
            except FileExistsError:
                pass
        name, n = f"{base}-{n}", n + 1


# --- Questions proposed from what worked --------------------------------------------------------------------

@dataclass
class Proposal:
    """New questions for one article: each phrasing with how many times it ended with the article."""

    article_id: str
    path: str
    questions: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class QuestionPatch:
    proposals: list[Proposal]
    diff: str
    skipped: list[str] = field(default_factory=list)  # articles whose front matter could not be patched


def _outcomes(db: Session, since: datetime | None) -> list[tuple[str, list[str], int]]:
    """(article key, phrasings, times): the deflections, grouped by article and query, and each resolved ticket's
    linked article (once per ticket, however many replies linked it)."""
    deflections = (select(Deflection.article_id, Deflection.query, func.count())
                   .where(Deflection.query != "").group_by(Deflection.article_id, Deflection.query)
                   .order_by(func.min(Deflection.id)))  # the first spelling wins a tie
    if since is not None:
        deflections = deflections.where(Deflection.created_at >= since)
    found = [(article_id, [query], times) for article_id, query, times in db.execute(deflections)]
    links = (select(TicketArticle.article_id, Ticket).join(Ticket, TicketArticle.ticket_id == Ticket.id)
             .where(Ticket.status == RESOLVED).order_by(TicketArticle.id))
    if since is not None:
        links = links.where(TicketArticle.created_at >= since)
    seen: set[tuple[str, int]] = set()
    for article_id, ticket in db.execute(links):
        if (article_id, ticket.id) not in seen:
            seen.add((article_id, ticket.id))
            found.append((article_id, [ticket.subject, _searched_query(ticket)], 1))
    return found


def propose_questions(db: Session, articles: list[Article], default_lang: str, since: datetime | None = None,
                      min_count: int = 1, max_per_article: int = 5) -> QuestionPatch:
    """Phrasings that ended with an article (see module doc), at least `min_count` times, not yet among its
    questions or its title, at most `max_per_article` per article (the most frequent first), as a unified diff
    of each article file's front matter (paths as the articles were loaded). Nothing is written."""
    by_key = {a.id: a for a in keyed([a for a in articles if a.status == "published"], default_lang)[0]}
    counts: dict[str, Counter[str]] = {}
    spellings: dict[tuple[str, str], Counter[str]] = {}
    for key, phrasings, times in _outcomes(db, since):
        if key not in by_key:
            continue
        for folded, text in _unique(phrasings).items():
            counts.setdefault(key, Counter())[folded] += times
            spellings.setdefault((key, folded), Counter())[text] += times
    proposals = []
    for key in sorted(counts):
        article = by_key[key]
        known = {fold(q) for q in article.questions} | {fold(article.title)}
        ranked = sorted(((f, n) for f, n in counts[key].items() if n >= min_count and f not in known),
                        key=lambda item: (-item[1], item[0]))[:max_per_article]
        if ranked:
            proposals.append(Proposal(key, article.path, [(spellings[(key, f)].most_common(1)[0][0], n)
                                                          for f, n in ranked]))
    return _patch(proposals)


def suggest_questions(settings: Settings, database_url: str, since: datetime | None = None, min_count: int = 1,
                      max_per_article: int = 5) -> QuestionPatch:
    """`kb suggest-questions`: proposals for the articles of `settings.articles_dir` from the database's outcomes."""
    center = load_help_center(settings.articles_dir, settings)
    _, sessions = open_database(database_url)
    with sessions() as db:
        return propose_questions(db, center.articles, settings.default_lang, since, min_count, max_per_article)


def _patch(proposals: list[Proposal]) -> QuestionPatch:
    chunks, done, skipped = [], [], []
    for proposal in proposals:
        old = Path(proposal.path).read_text(encoding="utf-8")
        new = add_questions(old, [q for q, _ in proposal.questions])
        if new is None:
            skipped.append(proposal.path)
            continue
        shown = _shown_path(proposal.path)
        chunks.append("".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                                   f"a/{shown}", f"b/{shown}")))
        done.append(proposal)
    return QuestionPatch(done, "".join(chunks), skipped)


def _shown_path(path: str) -> str:
    """The article's path for the diff: relative to the working folder when it lies under it (`patch -p1`)."""
    if not os.path.isabs(path):
        return Path(path).as_posix()
    try:
        return Path(path).relative_to(Path.cwd()).as_posix()
    except ValueError:
        return Path(path).as_posix().lstrip("/")


def _item(text: str) -> str:
    """`text` as a block list item's value, quoted only when YAML needs it."""
    return yaml.safe_dump([text], allow_unicode=True, width=10_000)[2:].rstrip("\n")


def add_questions(text: str, questions: list[str]) -> str | None:
    """The article file `text` with `questions` appended to its front matter's `questions`, every other line
    kept as it is; None when the result would not read back as the old questions followed by the new ones."""
    parts = split_front_matter(text.removeprefix("\ufeff"))
    if parts is None or not questions:
        return None
    front, _, body_line = parts
    lines = text.splitlines(keepends=True)
    end = body_line - 2  # index of the closing '---' line
    data, node = load_yaml(front)
    if not isinstance(data, dict):
        return None
    old = data.get("questions")
    old = [old] if isinstance(old, str) else old or []
    if not isinstance(old, list) or not all(isinstance(q, (str, int, float)) for q in old):
        return None
    entry = next(((k, v) for k, v in node.value if k.value == "questions"), None)
    if entry is None:  # no questions yet: a block before the closing line
        new_lines = ["questions:\n", *(f"  - {_item(q)}\n" for q in questions)]
        result = lines[:end] + new_lines + lines[end:]
    elif isinstance(entry[1], yaml.SequenceNode) and not entry[1].flow_style and entry[1].value:
        last = entry[1].value[-1]  # items go after the last one, indented as it is
        row = lines[last.start_mark.line + 1]
        prefix = row[:last.start_mark.column]
        at = last.end_mark.line + 1 + (1 if last.end_mark.column > 0 else 0)
        result = lines[:at] + [f"{prefix}{_item(q)}\n" for q in questions] + lines[at:]
    else:  # a flow list, one text or nothing: rewritten as a block list
        key, value = entry
        first, last_line = key.start_mark.line + 1, value.end_mark.line + 1
        if value.end_mark.column == 0 and last_line > first:
            last_line -= 1
        indent = lines[first][:key.start_mark.column]
        block = [f"{indent}questions:\n", *(f"{indent}  - {_item(q)}\n" for q in [*map(str, old), *questions])]
        result = lines[:first] + block + lines[last_line + 1:]
    new = "".join(result)
    check = split_front_matter(new.removeprefix("\ufeff"))
    try:
        got = load_yaml(check[0])[0] if check else None
    except yaml.YAMLError:
        return None
    if not isinstance(got, dict) or [str(q) for q in got.get("questions") or []] != [*map(str, old), *questions]:
        return None
    if {k: v for k, v in got.items() if k != "questions"} != {k: v for k, v in data.items() if k != "questions"}:
        return None
    return new
