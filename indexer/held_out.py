"""The help center's own texts turned into the searches confidence is calibrated on.

A customer asks in the words of a title ("Reset a forgotten password"), a description ("Change your password when
you have forgotten it…") or one of the article's `questions`; each such text is embedded as a query (the way a
search embeds what a customer types, which for some models differs from how passages are embedded) and is searched
without the passage it came from, so that it does not find itself. Help centers without `questions` still have a
title and, usually, a description per article, so every help center gets calibrated on searches of its own.
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from indexer.passages import Passage, article_sections
from kb.articles import Article

MAX_HELD_OUT = 2000  # searches per calibration: enough for a stable curve, cheap to embed


@dataclass(frozen=True)
class HeldOut:
    """Texts searched at calibration time, each with the article it comes from and the passage row hidden from
    its search (the passage that holds the text itself)."""

    texts: list[str]
    articles: list[str]
    hidden: list[int]
    kinds: list[str]  # 'title', 'description' or 'question'
    # The rest of the keyword field each text is indexed in, without the text: the article's other questions, its
    # sections for a description, nothing for a title (indexer/passages.py keyword_docs_for).
    rests: list[str]

    def only(self, keep: Callable[[str], bool]) -> "HeldOut":
        """The texts `keep` accepts (e.g. those a model reads), with their articles, rows and kinds."""
        rows = [n for n, text in enumerate(self.texts) if keep(text)]
        return HeldOut(*([column[n] for n in rows] for column in
                         (self.texts, self.articles, self.hidden, self.kinds, self.rests)))


def held_out_texts(articles: Sequence[Article], passages: Sequence[Passage], rows: Sequence[int],
                   seed: int = 13, limit: int = MAX_HELD_OUT) -> HeldOut:
    """The title, the description and each question of every article whose passages are `rows`, at most `limit`
    of them (a seeded sample, titles and descriptions kept first: every article is then represented)."""
    row_of: dict[tuple[str, str, str], int] = {}
    for row in rows:
        p = passages[row]
        if p.kind in ("question", "summary"):
            row_of.setdefault((p.article_id, p.kind, p.text), row)
    by_id = {a.id: a for a in articles}
    summaries = {article_id: row for (article_id, kind, _), row in row_of.items() if kind == "summary"}
    first: list[tuple[str, str, int, str, str]] = []
    rest: list[tuple[str, str, int, str, str]] = []
    for article_id in sorted({passages[r].article_id for r in rows}):
        article = by_id[article_id]
        summary = summaries.get(article_id, -1)
        sections = "\n\n".join(s.text for s in article_sections(article))
        for text, kind, others in ((article.title, "title", ""), (article.description, "description", sections)):
            if text and text.strip():
                first.append((text, article_id, summary, kind, others))
        for n, question in enumerate(article.questions):
            row = row_of.get((article_id, "question", question))
            if row is not None:
                others = "\n".join(article.questions[:n] + article.questions[n + 1:])
                rest.append((question, article_id, row, "question", others))
    rng = random.Random(seed)
    if len(first) > limit:
        first = rng.sample(first, limit)
    chosen = first + (rng.sample(rest, min(len(rest), limit - len(first))) if len(first) < limit else [])
    chosen.sort(key=lambda item: (item[1], item[2], item[0]))
    return HeldOut(*(list(column) for column in zip(*chosen))) if chosen else HeldOut([], [], [], [], [])


def embed_held_out(held: HeldOut, encode_queries: Callable[[Sequence[str]], np.ndarray]) -> np.ndarray:
    """The held-out texts embedded as queries (an empty matrix for none)."""
    if not held.texts:
        return np.zeros((0, 0), np.float32)
    return np.asarray(encode_queries(held.texts), dtype=np.float32)


MAX_SECTION_HELD_OUT = 300  # sub-section searches per calibration (each embeds a heading and a section's text)
STAND_IN_WORDS = 120  # of a section's text standing in for it: its opening (a passage's length, a bounded cost)


@dataclass(frozen=True)
class HeldOutSections:
    """Sub-section headings searched as what a customer asks about that sub-topic. A heading is a question in the
    help center's words; its own passages hold it too, so each search is made without them (`rows`), and with the
    opening of the section's text alone (`bodies`, embedded as a passage without its heading path) standing in
    for them: an answer that says the same in other words, as the answer to a customer's question does. Articles
    without `questions` are so calibrated on what their customers ask about, their sub-sections, not only on their
    titles and descriptions (which sit far closer to the article than a customer's question does)."""

    headings: list[str]
    articles: list[str]
    rows: list[tuple[int, ...]]
    bodies: list[str]
    # The article's other headings: its keyword heading field without this one (keyword_docs_for).
    rests: list[str]

    def only(self, keep: Callable[[str], bool]) -> "HeldOutSections":
        """The searches whose heading and text `keep` accepts (e.g. those a model reads)."""
        chosen = [n for n, (heading, body) in enumerate(zip(self.headings, self.bodies))
                  if keep(heading) and keep(body)]
        return HeldOutSections(*([column[n] for n in chosen] for column in
                                 (self.headings, self.articles, self.rows, self.bodies, self.rests)))


def _heading_key(heading: str) -> str:
    return " ".join(heading.lower().split())


def held_out_sections(articles: Sequence[Article], passages: Sequence[Passage], rows: Sequence[int],
                      seed: int = 13, limit: int = MAX_SECTION_HELD_OUT) -> HeldOutSections:
    """The sub-section headings that name a topic, of the articles whose passages are `rows` and that have no
    `questions` (customers' own phrasings calibrate those that have: held_out_texts): of at least two words and
    used by one section of the help center only ("Steps" or "Before you start" name a part of many articles,
    not a problem), of sections with text of their own; at most `limit` (a seeded sample). `rows` of each: its
    passages' rows; `bodies`: the opening of its text (at most STAND_IN_WORDS words); `rests`: the article's
    other headings."""
    section_rows: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        p = passages[row]
        if p.kind == "section" and p.heading:
            section_rows.setdefault((p.article_id, p.anchor), []).append(row)
    found: list[tuple[str, str, tuple[int, ...], str, str]] = []
    uses: Counter[str] = Counter()  # how many sections of the whole help center have each heading
    searched = {passages[r].article_id for r in rows}
    for article in sorted(articles, key=lambda a: a.id):
        sections = article_sections(article)
        for n, section in enumerate(sections):
            key = _heading_key(section.heading)
            uses[key] += 1
            own = section_rows.get((article.id, section.anchor))
            if article.id in searched and not article.questions and own and section.text.strip() \
                    and len(key.split()) >= 2:
                opening = " ".join(section.text.split()[:STAND_IN_WORDS])
                rest = "\n".join(s.heading for m, s in enumerate(sections) if m != n and s.heading)
                found.append((section.heading, article.id, tuple(own), opening, rest))
    found = [item for item in found if uses[_heading_key(item[0])] == 1]
    if len(found) > limit:
        found = sorted(random.Random(seed).sample(found, limit), key=lambda item: (item[1], item[2]))
    return HeldOutSections(*(list(column) for column in zip(*found))) if found else HeldOutSections([], [], [], [], [])


def embed_sections(sections: HeldOutSections, encode_queries: Callable[[Sequence[str]], np.ndarray],
                   encode_passages: Callable[[Sequence[str]], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The headings embedded as queries and the section texts as passages."""
    return (np.asarray(encode_queries(sections.headings), dtype=np.float32),
            np.asarray(encode_passages(sections.bodies), dtype=np.float32))


def each_text_once(encode: Callable[[Sequence[str]], np.ndarray]) -> Callable[[Sequence[str]], np.ndarray]:
    """`encode`, embedding each distinct text once however often it is asked for (both audiences of a build
    calibrate on mostly the same texts)."""
    known: dict[str, np.ndarray] = {}

    def encoded(texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, np.asarray(encode(missing), dtype=np.float32)))
        return np.array([known[t] for t in texts], dtype=np.float32)
    return encoded
