"""What of an article gets embedded and keyword-indexed: passages (questions, summary, body sections)."""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable

import numpy as np

from kb.articles import Article
from kb.index.keyword import KeywordDoc
from kb.sections import Section, chunk_words, plain_text, split_sections


@dataclass(frozen=True)
class Passage:
    """One embedded text. `kind` is 'question', 'summary' or 'section'."""

    article_id: str
    anchor: str
    heading: str
    kind: str
    text: str

    @cached_property  # read several times per passage in a build; frozen dataclasses keep a __dict__
    def hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()[:32]


def article_sections(article: Article) -> list[Section]:
    return [Section(s.anchor, s.heading, plain_text(s.text), s.path) for s in split_sections(article.body)]


def section_record(section: Section) -> dict[str, str]:
    """A section as articles.json stores it (kb.index.records.IndexedArticle.sections), with its text (which
    pages.jsonl stores: kb.index.pages)."""
    return {"anchor": section.anchor, "heading": section.heading, "path": section.heading_path,
            "text": section.text}


def passages_for(article: Article, max_words: int) -> list[Passage]:
    """The questions one by one, the title with the description, then each body section in chunks.

    Each section chunk carries the article title and the section's heading path ("Enterprise Policies › Disable
    Send"), so a sub-section is understood in its article's and its enclosing sections' context. A heading with
    no text of its own is a passage only when no sub-section follows it: its sub-sections' passages already carry
    its words, and a hit on the bare heading would point above the sub-section that answers.
    """
    out = [Passage(article.id, "", "", "question", q) for q in article.questions]
    summary = article.title + (f". {article.description}" if article.description else "")
    out.append(Passage(article.id, "", "", "summary", summary))
    sections = article_sections(article)
    for section, following in zip(sections, [*sections[1:], None]):
        if not section.text and following is not None and _encloses(section, following):
            continue
        prefix = article.title + (f". {section.heading_path}" if section.path else "")
        for chunk in chunk_words(section.text, max_words) or [""]:
            if chunk or section.heading:
                out.append(Passage(article.id, section.anchor, section.heading, "section",
                                   f"{prefix}. {chunk}".strip(". ")))
    return out


def _encloses(outer: Section, inner: Section) -> bool:
    return len(inner.path) > len(outer.path) and inner.path[:len(outer.path)] == outer.path


def keyword_docs_for(article: Article) -> list[KeywordDoc]:
    """One keyword document per article: BM25 over whole articles (sections are found by the vector side).

    Whoosh's cost grows with the documents a term occurs in; one document per article instead of one per
    section keeps keyword search several times faster with no loss of which article matches.
    """
    sections = article_sections(article)
    body = "\n\n".join(filter(None, [article.description, *(s.text for s in sections)]))
    return [KeywordDoc(
        doc_id=article.id, article_id=article.id, audience=article.audience, category=article.category,
        lang=article.lang, title=article.title, questions="\n".join(article.questions), tags=" ".join(article.tags),
        heading="\n".join(s.heading for s in sections if s.heading), body=body)]


_WORD = re.compile(r"[^\W\d_]{2,}")


def word_counts(articles: Iterable[Article]) -> dict[str, int]:
    """How often each word (lower-cased) occurs in the articles' visible text: the spelling vocabulary."""
    counts: Counter[str] = Counter()
    for article in articles:
        text = " ".join([article.title, article.description, *article.questions, *article.tags,
                         *(f"{s.heading} {s.text}" for s in article_sections(article))])
        counts.update(w.lower() for w in _WORD.findall(text))
    return dict(counts)


def question_sums(article_ids: list[str], passage_articles: list[str], passage_kinds: list[str],
                  embeddings: np.ndarray) -> np.ndarray:
    """Per article (in `article_ids` order), the sum of its question and summary embeddings."""
    row_of = {a: i for i, a in enumerate(article_ids)}
    mask = np.array([kind != "section" for kind in passage_kinds], dtype=bool)
    rows = np.array([row_of[a] for a, keep in zip(passage_articles, mask) if keep], dtype=np.int64)
    sums = np.zeros((len(article_ids), embeddings.shape[1]), dtype=np.float64)
    np.add.at(sums, rows, np.asarray(embeddings, dtype=np.float64)[mask])
    return sums


def question_centroids(articles: list[Article], passages: list[Passage], embeddings: np.ndarray) -> np.ndarray:
    """Per article (in `articles` order), the normalised mean of its question and summary embeddings:
    where customers' phrasings of that problem lie."""
    sums = question_sums([a.id for a in articles], [p.article_id for p in passages], [p.kind for p in passages],
                         embeddings)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (sums / norms).astype(np.float32)
