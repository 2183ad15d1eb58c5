"""The Whoosh keyword index: schema, writing and querying. Whoosh's indexing is used only here.

Whoosh scores a query by walking posting lists in Python, which grows with every matching document. So a build
also writes the index's BM25F score of every (field, term, document) as a sparse matrix (`impacts.npz`,
computed by Whoosh's own scorer): a query's scores are then the sum of a few matrix rows, the same numbers
Whoosh's OR query gives, in well under a millisecond.

Customers must learn nothing from internal articles, not even through the statistics BM25 scores with (how many
documents hold a term) or the words the index knows. So the documents of each audience are a Whoosh index of
their own in the folder ('public', 'internal'), and the scores are stored per view: the public view
(`impacts-public.npz`) is computed over the public documents alone, the full view (`impacts.npz`) over both, with
the statistics of one index holding everything (Whoosh reads the two as one). The analysis chains per language
live in kb/text_analysis.py (the help desk's ticket search uses them too).

A loaded index searches the stored scores with numpy alone (`Impacts`): Whoosh's indexes are opened, and Whoosh's
indexing and SciPy imported, only to write an index or to search with Whoosh's own searcher (the reference the
stored scores are tested against), so that a short-lived search process (`kb gaps`) does not load them.
"""
from __future__ import annotations

import json
import pickle
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Sequence

import numpy as np

from kb.errors import IndexFormatError
from kb.index.impacts import Impacts
from kb.index.layout import KEYWORD_VIEWS
# (FoldFilter and ScriptStemFilter stay importable here: indexes written before they moved name them by this module)
from kb.text_analysis import LANG_GROUPS, FoldFilter, ScriptStemFilter, analyzer, lang_group  # noqa: F401

if TYPE_CHECKING:
    from whoosh import query as wq
    from whoosh.fields import Schema
    from whoosh.searching import Searcher

PARTITIONS = ("public", "internal")  # one Whoosh index per article audience; document numbers in this order
# Stored views: which partitions each is computed over, and its files (scores, and what each column is).
VIEWS = {"public": ("public",), "all": PARTITIONS}
TEXT_FIELDS = {"title": 4.0, "questions": 3.0, "tags": 2.5, "heading": 1.5, "body": 1.0}


def build_schema() -> Schema:
    from whoosh.fields import ID, TEXT, Schema

    fields = {
        "doc_id": ID(stored=True, unique=True),
        "article_id": ID(stored=True),
        "audience": ID(stored=True),
        "category": ID(stored=True),
    }
    for group in LANG_GROUPS:
        for name, boost in TEXT_FIELDS.items():
            fields[f"{name}_{group}"] = TEXT(analyzer=analyzer(group), field_boost=boost)
    return Schema(**fields)


@dataclass(frozen=True)
class KeywordDoc:
    """One searchable document: an article's text by field."""

    doc_id: str
    article_id: str
    audience: str
    category: str
    lang: str
    title: str = ""
    questions: str = ""
    tags: str = ""
    heading: str = ""
    body: str = ""


def _open(directory: Path, partition: str):
    """A partition's Whoosh index in `directory`; IndexFormatError when it cannot be read (e.g. written by another
    version)."""
    from whoosh import index as whoosh_index

    try:
        return whoosh_index.open_dir(str(directory), indexname=partition)
    except (whoosh_index.IndexError, OSError, EOFError, AttributeError, ImportError, pickle.UnpicklingError) as exc:
        raise IndexFormatError(f"{directory}: cannot read the keyword index ({type(exc).__name__}: {exc}); "
                               "rebuild the index") from None


def _view_reader(indexes: dict, view: str):
    """One reader over a view's partitions: Whoosh scores a MultiReader with the statistics of all of them."""
    from whoosh.reading import MultiReader

    readers = [indexes[name].reader() for name in VIEWS[view]]
    return readers[0] if len(readers) == 1 else MultiReader(readers)


def write_index(directory: Path, docs: Iterable[KeywordDoc], previous: Path | None = None,
                remove: Iterable[str] = ()) -> int:
    """Write the keyword index. With `previous`, start from a copy of that index, drop the documents of the
    articles in `remove`, and add `docs` (an incremental build); otherwise index `docs` from scratch."""
    from whoosh import index as whoosh_index
    from whoosh.scoring import BM25F
    from whoosh.searching import Searcher

    if previous is not None:
        shutil.copytree(previous, directory)
        indexes = {name: _open(directory, name) for name in PARTITIONS}
    else:
        directory.mkdir(parents=True, exist_ok=True)
        indexes = {name: whoosh_index.create_in(str(directory), build_schema(), indexname=name) for name in PARTITIONS}
    writers = {name: ix.writer(limitmb=128) for name, ix in indexes.items()}
    count = 0
    try:
        for article_id in remove:
            for writer in writers.values():
                writer.delete_by_term("article_id", article_id)
        for doc in docs:
            if doc.audience not in writers:
                raise ValueError(f"{doc.doc_id}: unknown audience {doc.audience!r} (known: {', '.join(PARTITIONS)})")
            group = lang_group(doc.lang)
            fields = {"doc_id": doc.doc_id, "article_id": doc.article_id, "audience": doc.audience,
                      "category": doc.category}
            for name in TEXT_FIELDS:
                value = getattr(doc, name)
                if value:
                    fields[f"{name}_{group}"] = value
            writers[doc.audience].add_document(**fields)
            count += 1
    except BaseException:
        for writer in writers.values():
            writer.cancel()
        raise
    for writer in writers.values():
        writer.commit()
    try:
        for view in VIEWS:
            with Searcher(_view_reader(indexes, view), weighting=BM25F()) as searcher:
                write_impacts(searcher, directory, view)
    finally:
        for ix in indexes.values():
            ix.close()
    return count


def write_impacts(searcher: Searcher, directory: Path, view: str = "all") -> None:
    """Store the BM25F score of every (field, term) in every live document of the searcher's reader (a view), as
    Whoosh's scorer computes it."""
    from scipy import sparse

    weighting = searcher.weighting
    reader = searcher.reader()
    total = reader.doc_count_all()
    live = np.array([not reader.is_deleted(n) for n in range(total)], dtype=bool)
    keys: list[str] = []
    indices, data, indptr = [], [], [0]
    for field in [f for f in reader.schema.names() if f.rsplit("_", 1)[0] in TEXT_FIELDS]:
        if not reader.field_length(field):
            continue
        lengths = np.array([searcher.doc_field_length(n, field, 1) for n in range(total)], dtype=np.float64)
        b, k1 = weighting.B, weighting.K1
        norm = k1 * ((1 - b) + b * lengths / (searcher.avg_field_length(field) or 1))
        for term in reader.lexicon(field):
            items = [(n, w) for n, w in reader.postings(field, term).items_as("weight") if live[n]]
            if not items:
                continue
            docs = np.fromiter((n for n, _ in items), dtype=np.int32, count=len(items))
            weights = np.fromiter((w for _, w in items), dtype=np.float64, count=len(items))
            # whoosh.scoring.bm25 with the same idf, field length and average as BM25FScorer
            scores = searcher.idf(field, term) * weights * (k1 + 1) / (weights + norm[docs])
            keys.append(f"{field} {term.decode('utf-8')}")
            indices.append(docs)
            data.append(scores.astype(np.float32))
            indptr.append(indptr[-1] + len(docs))
    docs_info = [[f["doc_id"], f["article_id"], f["audience"]] if live[n] else None
                 for n, f in ((n, reader.stored_fields(n)) for n in range(total))]
    matrix = sparse.csr_matrix(
        (np.concatenate(data) if data else np.zeros(0, np.float32),
         np.concatenate(indices) if indices else np.zeros(0, np.int32), np.array(indptr, dtype=np.int64)),
        shape=(len(keys), total))
    impacts, doc_file = KEYWORD_VIEWS[view]
    sparse.save_npz(directory / impacts, matrix, compressed=False)
    (directory / doc_file).write_text(json.dumps({"keys": keys, "docs": docs_info}, ensure_ascii=False),
                                      encoding="utf-8")


@dataclass(frozen=True)
class KeywordHit:
    doc_id: str
    article_id: str
    score: float


class _View:
    """The stored scores of one view, and the terms its documents hold."""

    def __init__(self, directory: Path, view: str) -> None:
        impacts, doc_file = KEYWORD_VIEWS[view]
        try:
            self.impacts = Impacts.load(directory / impacts)
            info = json.loads((directory / doc_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"{directory}: keyword scores unreadable ({exc}); rebuild the index") from None
        self.row = {key: i for i, key in enumerate(info["keys"])}
        self.docs = [tuple(d) if d else None for d in info["docs"]]
        self._allowed: dict[tuple[str, ...], np.ndarray] = {}
        self._docs_of: dict[str, list[int]] | None = None
        # Which terms each text field holds: a query asks only for (field, term) pairs that can match.
        field_terms: dict[str, set[str]] = {}
        for key in info["keys"]:
            field, term = key.split(" ", 1)
            field_terms.setdefault(field, set()).add(term)
        self.field_terms = {f: frozenset(t) for f, t in field_terms.items()}
        self.groups = [g for g in LANG_GROUPS if any(f"{name}_{g}" in self.field_terms for name in TEXT_FIELDS)]
        self.group_terms = {g: frozenset().union(*(self.field_terms.get(f"{name}_{g}", ()) for name in TEXT_FIELDS))
                            for g in self.groups}

    def docs_of(self, article_id: str) -> list[int]:
        """The live document numbers of an article."""
        if self._docs_of is None:
            self._docs_of = {}
            for n, doc in enumerate(self.docs):
                if doc is not None:
                    self._docs_of.setdefault(doc[1], []).append(n)
        return self._docs_of.get(article_id, [])

    def allowed_mask(self, audiences: tuple[str, ...]) -> np.ndarray:
        mask = self._allowed.get(audiences)
        if mask is None:
            mask = np.array([d is not None and d[2] in audiences for d in self.docs], dtype=bool)
            self._allowed[audiences] = mask
        return mask


class KeywordIndex:
    """A read-only keyword index opened once; each search uses a fresh, thread-safe searcher.

    Every method takes the audiences whose documents may be found: customers' ('public',) searches the public
    view, built from public documents alone; any other set searches the full view (and keeps only its audiences).
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._opened: dict | None = None  # Whoosh's own indexes, opened by the first `whoosh_search`
        self._analyzers = {g: analyzer(g) for g in LANG_GROUPS}
        self._views = {view: _View(directory, view) for view in VIEWS}

    @property
    def _indexes(self) -> dict:
        if self._opened is None:
            self._opened = {name: _open(self._directory, name) for name in PARTITIONS}
        return self._opened

    def _view_of(self, audiences: Sequence[str]) -> str:
        return "public" if set(audiences) == {"public"} else "all"

    def knows(self, word: str, audiences: Sequence[str] = ("public",)) -> bool:
        """Whether the view holds this word (after a group's analyzer), or it is a stop word of a group."""
        view = self._views[self._view_of(audiences)]
        for group in view.groups:
            terms = self.terms(word, group)
            if any(term in view.group_terms[group] for term in terms) or (not terms and word.isalpha()):
                return True
        return False

    def terms(self, text: str, group: str) -> list[str]:
        seen: dict[str, None] = {}
        for token in self._analyzers[group](text):
            seen.setdefault(token.text, None)
        return list(seen)

    def _clauses(self, text: str, view: _View) -> list[tuple[str, str]]:
        """(field, term) for every query term in every field of every language group that holds it."""
        clauses = []
        for group in view.groups:
            for term in self.terms(text, group)[:64]:
                for name in TEXT_FIELDS:
                    field = f"{name}_{group}"
                    if term in view.field_terms.get(field, ()):
                        clauses.append((field, term))
        return clauses

    def build_query(self, text: str, audiences: Sequence[str] = ("public",)) -> wq.Query | None:
        """The Whoosh query the keyword scores answer: an OR over the clauses; no user syntax is parsed."""
        from whoosh import query as wq

        clauses = [wq.Term(field, term) for field, term in self._clauses(text, self._views[self._view_of(audiences)])]
        return wq.Or(clauses) if clauses else None

    def search(self, text: str, limit: int, audiences: Sequence[str] = ("public",),
               hide: tuple[str, str, str] | None = None) -> list[KeywordHit]:
        """The `limit` best documents for `text` by BM25F, ties by index order (as Whoosh ranks them).

        `hide` (an article id, a field name of TEXT_FIELDS, the rest of that field's text) scores that article
        as if the field held only the rest: its matches there count only for terms the rest holds too (at their
        stored score), so that a build's held-out search of the article's own title or question does not find
        the text itself."""
        view = self._views[self._view_of(audiences)]
        clauses = self._clauses(text, view)
        rows = [view.row[f"{field} {term}"] for field, term in clauses]
        if not rows or limit <= 0:
            return []
        scores = view.impacts.column_sums(rows)
        if hide is not None:
            own = view.docs_of(hide[0])
            rest = {(f"{hide[1]}_{group}", term) for group in view.groups for term in self.terms(hide[2], group)}
            kept = [row for row, (field, term) in zip(rows, clauses)
                    if field.rsplit("_", 1)[0] != hide[1] or (field, term) in rest]
            if own:  # summed anew from the other fields' rows, so that no rounding residue stays behind
                scores[own] = view.impacts.column_sums(kept)[own] if kept else 0.0
        candidates = np.flatnonzero((scores > 0) & view.allowed_mask(tuple(audiences)))
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
        order = candidates[np.lexsort((candidates, -scores[candidates]))]
        return [KeywordHit(view.docs[n][0], view.docs[n][1], float(scores[n])) for n in order]

    def whoosh_search(self, text: str, limit: int, audiences: Sequence[str] = ("public",)) -> list[KeywordHit]:
        """The same search run by Whoosh's own searcher: the reference the stored scores are checked against."""
        from whoosh import query as wq
        from whoosh.scoring import BM25F
        from whoosh.searching import Searcher

        query = self.build_query(text, audiences)
        if query is None or limit <= 0:
            return []
        allowed = wq.Or([wq.Term("audience", a) for a in audiences])
        with Searcher(_view_reader(self._indexes, self._view_of(audiences)), weighting=BM25F()) as searcher:
            results = searcher.search(query, limit=limit, filter=allowed)
            return [KeywordHit(r["doc_id"], r["article_id"], float(r.score)) for r in results]

    def close(self) -> None:
        for ix in (self._opened or {}).values():
            ix.close()
        self._opened = None
