"""The help center's own texts turned into the searches confidence is calibrated on.

A customer asks in the words of a title ("Reset a forgotten password"), a description ("Change your password when
you have forgotten it…") or one of the article's `questions`; each such text is embedded as a query (the way a
search embeds what a customer types, which for some models differs from how passages are embedded) and is searched
without the passage it came from, so that it does not find itself. Help centers without `questions` still have a
title and, usually, a description per article, so every help center gets calibrated on searches of its own.
"""
from __future__ import annotations

import random
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
