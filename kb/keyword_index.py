"""The Whoosh keyword index: schema, per-language analyzers, writing and querying. Whoosh is used only here."""
from __future__ import annotations

import re
import shutil
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from whoosh import index as whoosh_index
from whoosh import query as wq
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer, StopFilter
from whoosh.fields import ID, TEXT, Schema
from whoosh.lang.stopwords import stoplists
from whoosh.scoring import BM25F

# Field groups: every text field exists once per analyzer language. An article's text goes into the group
# of its language; a query is analysed by every group and searched in all of them.
LANG_GROUPS = ("en", "ru", "any")
TEXT_FIELDS = {"title": 4.0, "questions": 3.0, "tags": 2.5, "heading": 1.5, "body": 1.0}
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


class ScriptStemFilter(Filter):
    """Stems Latin-script words with the English stemmer and Cyrillic words with a Cyrillic-language stemmer.

    Help-center text mixes scripts ("VPN не подключается"), so the stemmer is chosen per token.
    """

    def __init__(self, cyrillic: str | None = None, latin: str | None = "english") -> None:
        self.cyrillic = cyrillic
        self.latin = latin
        self._stemmers: dict[str, object] = {}

    def __getstate__(self) -> dict:
        return {"cyrillic": self.cyrillic, "latin": self.latin}

    def __setstate__(self, state: dict) -> None:
        self.__init__(**state)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ScriptStemFilter) and self.__getstate__() == other.__getstate__()

    def _stemmer(self, lang: str):
        stemmer = self._stemmers.get(lang)
        if stemmer is None:
            import Stemmer
            stemmer = self._stemmers[lang] = Stemmer.Stemmer(lang)
        return stemmer

    def __call__(self, tokens):
        for token in tokens:
            if not token.stopped:
                lang = self.cyrillic if _CYRILLIC.search(token.text) else self.latin
                if lang:
                    token.text = self._stemmer(lang).stemWord(token.text)
            yield token


class FoldFilter(Filter):
    """Folds 'ё' to 'е' and strips accents, so spelling variants meet."""

    def __call__(self, tokens):
        for token in tokens:
            text = token.text.replace("ё", "е")
            if not text.isascii():
                decomposed = unicodedata.normalize("NFD", text)
                # Keep the Cyrillic short i (и + breve) intact: it is a letter of its own.
                text = unicodedata.normalize("NFC", "".join(
                    c for i, c in enumerate(decomposed)
                    if not (unicodedata.combining(c) and not (c == "\u0306" and i and decomposed[i - 1] in "иИ"))))
            token.text = text
            yield token


def analyzer(group: str):
    tokens = RegexTokenizer(r"\w+(?:[.'’]\w+)*") | LowercaseFilter() | FoldFilter()
    if group == "en":
        return tokens | StopFilter(stoplist=stoplists["en"], minsize=1) | ScriptStemFilter(None, "english")
    if group == "ru":
        stop = frozenset(stoplists["en"]) | frozenset(stoplists["ru"])
        return tokens | StopFilter(stoplist=stop, minsize=1) | ScriptStemFilter("russian", "english")
    return tokens | StopFilter(stoplist=stoplists["en"], minsize=1)


def lang_group(lang: str) -> str:
    base = lang.split("-", 1)[0].lower()
    return base if base in LANG_GROUPS else "any"


def build_schema() -> Schema:
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


def write_index(directory: Path, docs: Iterable[KeywordDoc], previous: Path | None = None,
                remove: Iterable[str] = ()) -> int:
    """Write the keyword index. With `previous`, start from a copy of that index, drop the documents of the
    articles in `remove`, and add `docs` (an incremental build); otherwise index `docs` from scratch."""
    if previous is not None:
        shutil.copytree(previous, directory)
        ix = whoosh_index.open_dir(str(directory))
    else:
        directory.mkdir(parents=True, exist_ok=True)
        ix = whoosh_index.create_in(str(directory), build_schema())
    writer = ix.writer(limitmb=256)
    count = 0
    try:
        for article_id in remove:
            writer.delete_by_term("article_id", article_id)
        for doc in docs:
            group = lang_group(doc.lang)
            fields = {"doc_id": doc.doc_id, "article_id": doc.article_id, "audience": doc.audience,
                      "category": doc.category}
            for name in TEXT_FIELDS:
                value = getattr(doc, name)
                if value:
                    fields[f"{name}_{group}"] = value
            writer.add_document(**fields)
            count += 1
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    ix.close()
    return count


@dataclass(frozen=True)
class KeywordHit:
    doc_id: str
    article_id: str
    score: float


class KeywordIndex:
    """A read-only keyword index opened once; each search uses a fresh, thread-safe searcher."""

    def __init__(self, directory: Path) -> None:
        self._ix = whoosh_index.open_dir(str(directory))
        self._analyzers = {g: analyzer(g) for g in LANG_GROUPS}
        names = set(self._ix.schema.names())
        with self._ix.reader() as reader:
            # Which terms each text field holds: a query asks only for (field, term) pairs that can match.
            self._field_terms = {f"{name}_{g}": frozenset(t.decode("utf-8") for t in reader.lexicon(f"{name}_{g}"))
                                 for g in LANG_GROUPS for name in TEXT_FIELDS if f"{name}_{g}" in names}
        self.groups = [g for g in LANG_GROUPS if any(self._field_terms.get(f"{name}_{g}") for name in TEXT_FIELDS)]
        self._group_terms = {g: frozenset().union(*(self._field_terms[f"{name}_{g}"] for name in TEXT_FIELDS))
                             for g in self.groups}

    def knows(self, word: str) -> bool:
        """Whether the index holds this word (after a group's analyzer), or it is a stop word of a group."""
        for group in self.groups:
            terms = self.terms(word, group)
            if any(term in self._group_terms[group] for term in terms) or (not terms and word.isalpha()):
                return True
        return False

    def terms(self, text: str, group: str) -> list[str]:
        seen: dict[str, None] = {}
        for token in self._analyzers[group](text):
            seen.setdefault(token.text, None)
        return list(seen)

    def build_query(self, text: str) -> wq.Query | None:
        """An OR over every query term in every field of every language group; no user syntax is parsed."""
        clauses = []
        for group in self.groups:
            for term in self.terms(text, group)[:64]:
                for name in TEXT_FIELDS:
                    field = f"{name}_{group}"
                    if term in self._field_terms[field]:
                        clauses.append(wq.Term(field, term))
        return wq.Or(clauses) if clauses else None

    def search(self, text: str, limit: int, audiences: Sequence[str] = ("public",)) -> list[KeywordHit]:
        query = self.build_query(text)
        if query is None:
            return []
        allowed = wq.Or([wq.Term("audience", a) for a in audiences])
        with self._ix.searcher(weighting=BM25F()) as searcher:
            results = searcher.search(query, limit=limit, filter=allowed)
            return [KeywordHit(r["doc_id"], r["article_id"], float(r.score)) for r in results]

    def close(self) -> None:
        self._ix.close()
