"""The search service: one object per process, loaded once from an index directory."""
from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from kb.index.checksums import verify
from kb.index.classifier import CONFIDENCE_FEATURES, CategoryClassifier, ConfidenceModel
from kb.config import Settings
from kb.embedding.encoders import AUTO, ENGLISH_MODEL, MULTILINGUAL_MODEL, Encoder, load_encoder
from kb.errors import IndexFormatError, ModelMismatchError
from kb.index.keyword import PARTITIONS, KeywordIndex
from kb.index.layout import CENTROIDS, IndexFiles
from kb.index.manifest import AUDIENCES, Manifest, read_manifest
from kb.index.pages import ArticlePage, PageReader
from kb.index.records import IndexedArticle, IndexedPassage
from kb.index.vector import PartitionedVectors, VectorIndex
from search.confidence import answer_confidence, model_reads, predicted_category
from search.cutoff import nothing_relevant, relevant_count
from search.dictionaries import shared_dictionaries
from search.prepare import as_given, clean_query, is_searchable, prepare_query
from search.rank import (MODES, is_foreign, keyword_weight, listed_languages, one_version_each, preferred_languages,
                         rank, without_foreign_tail)
from search.retrieve import (Candidates, Ranking, keyword_candidates, passage_candidates, PassagePointers,
                             with_centroids)
from search.second_opinion import SecondOpinion
from search.small_talk import names_a_topic
from search.spelling import Vocabulary, fix_layout


@dataclass(frozen=True)
class Hit:
    id: str
    title: str
    category: str
    score: float
    anchor: str = ""
    heading: str = ""
    lang: str = "en"
    audience: str = "public"
    parts: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "category": self.category, "score": round(self.score, 6),
                "anchor": self.anchor, "lang": self.lang, "parts": {k: round(v, 6) for k, v in self.parts.items()}}


@dataclass(frozen=True)
class SearchResponse:
    """Ranked hits, the predicted category of the query, and how sure the service is of its first answer."""

    query: str
    hits: list[Hit]
    corrected: str | None = None  # the query as searched, when a layout slip or a typo was fixed
    category: str | None = None
    category_p: float = 0.0
    confidence: float = 0.0
    confident: bool = False
    did_you_mean: str | None = None  # a fix of the query not certain enough to search by, offered instead

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "corrected_query": self.corrected, "did_you_mean": self.did_you_mean,
                "category": self.category,
                "category_p": round(self.category_p, 4), "confidence": round(self.confidence, 4),
                "confident": self.confident,
                "results": [h.to_dict() for h in self.hits]}


class SearchService:
    """Searches for customers (audience 'public') use only what was built from public articles: their keyword
    view, vectors, spelling vocabulary, category classifier and confidence curve (kb.index.manifest.AUDIENCES); agents'
    (audience 'internal') use what was built from every article."""

    def __init__(self, index_dir: Path, manifest: Manifest, encoder: Encoder, settings: Settings,
                 second_encoder: Encoder | None = None) -> None:
        self.index_dir = index_dir
        self.manifest = manifest
        self.settings = settings
        self._encoder = encoder
        self._files = files = IndexFiles(index_dir)
        try:
            self.articles: Mapping[str, IndexedArticle] = _read_articles(files.articles)
            self._categories: dict[str, dict] = _read_json(files.categories)
            passages = _read_json(files.passages)
            if not isinstance(passages, list):
                raise IndexFormatError(f"{files.passages}: not a list; rebuild the index")
            self._passages = PassagePointers(IndexedPassage.from_json(p, f"{files.passages} row {row}")
                                              for row, p in enumerate(passages))
            del passages
            partition_rows = {name: np.array([row for row, p in enumerate(self._passages)
                                              if self.articles[p.article].audience == name], dtype=np.int64)
                              for name in PARTITIONS}
            self._category_of = {key: meta.category for key, meta in self.articles.items()}
        except (KeyError, TypeError) as exc:
            raise IndexFormatError(f"{index_dir}: incomplete index ({exc}); rebuild the index") from None
        bad = sorted(cid for cid, c in self._categories.items()
                     if not isinstance(c, dict) or c.get("audience") not in PARTITIONS)
        if bad:
            raise IndexFormatError(f"{files.categories}: categories {bad} have no audience; rebuild the index")
        self._pages = PageReader(files.pages)
        self._pages.check(self.articles)
        self._keyword = KeywordIndex(files.keyword)
        self._words = {audience: Vocabulary(_read_json(files.words(audience)).items()) for audience in AUDIENCES}
        self._vectors = PartitionedVectors(
            {name: VectorIndex(files.vectors(name), manifest.model_dimension)
             for name in PARTITIONS}, partition_rows, files.embeddings)
        self._classifier = {audience: CategoryClassifier.load(files.classifier(audience)) for audience in AUDIENCES}
        self._query_vectors: dict[str, np.ndarray] = {}
        self._history: dict[str, list[dict]] | None = None
        self._visible: dict[str, Mapping[str, IndexedArticle]] = {}
        self._visible_categories: dict[str, Mapping[str, dict]] = {}
        # Languages articles are written in, per audience: a query in another one leans less on keywords.
        self._languages = {audience: {str(a.lang).split("-")[0] for a in self.articles.values()
                                      if a.audience in allowed} for audience, allowed in AUDIENCES.items()}
        try:  # centroid rows follow the sorted article ids
            self._centroids = np.load(files.centroids, mmap_mode="r")  # (read as searches need its rows)
        except (OSError, ValueError) as exc:
            raise IndexFormatError(f"{index_dir}: cannot read {CENTROIDS} ({exc})") from None
        self._centroid_row = {a: i for i, a in enumerate(sorted(self.articles))}
        if len(self._centroids) != len(self._centroid_row):
            raise IndexFormatError(f"{index_dir}: {len(self._centroids)} centroids for {len(self.articles)} articles")
        self._confidence = {audience: ConfidenceModel.from_json(manifest.confidence.get(audience) or {})
                            for audience in AUDIENCES}
        fitted = manifest.fusion if isinstance(manifest.fusion, dict) else {}
        self.fusion_weights = {audience: fusion_weights(fitted.get(audience), settings) for audience in AUDIENCES}
        for curve in self._confidence.values():
            if curve.features != CONFIDENCE_FEATURES:
                raise IndexFormatError(f"{index_dir}: confidence model over {curve.features}, this kb computes "
                                       f"{CONFIDENCE_FEATURES}; rebuild the index")
        if len(self._vectors) != len(self._passages):
            raise IndexFormatError(f"{index_dir}: {len(self._vectors)} vectors for {len(self._passages)} passages")
        self._second = SecondOpinion.load(files, manifest, self.articles, partition_rows, settings, second_encoder)

    @classmethod
    def load(cls, index_dir: Path, settings: Settings | None = None, encoder: Encoder | None = None,
             warm: bool = True, second_encoder: Encoder | None = None) -> "SearchService":
        """Open the index `index_dir` points at now; a later rebuild does not change a loaded service. With `warm`
        (serving), the model and the spelling dictionaries are loaded now rather than by the first search; a
        short-lived command that may need neither (vectors cached, texts searched as given) passes False.
        `second_encoder`: the model of the index's second opinion on confidence, if it has one (search/second_opinion.py;
        by default loaded once per process)."""
        settings = settings or Settings()
        manifest = read_manifest(index_dir)
        resolved = index_dir.resolve()
        verify(resolved, manifest.files)  # a damaged file is refused by name before any reader parses it
        wanted = encoder.name if encoder is not None else settings.embedding_model
        if wanted == AUTO and manifest.model_name in (ENGLISH_MODEL, MULTILINGUAL_MODEL):
            wanted = manifest.model_name  # what `auto` chose when the index was built
        if wanted != manifest.model_name:
            raise ModelMismatchError(
                f"{index_dir} was built with model {manifest.model_name!r} but {wanted!r} is configured; "
                "rebuild the index or configure the same model")
        if encoder is None:
            encoder = load_encoder(wanted, settings.embedding_threads, settings.embedding_batch_size,
                                   settings.embedding_precision, settings.query_runtime, settings.model_cache_dir)
        if encoder.dimension != manifest.model_dimension:
            raise ModelMismatchError(f"model {encoder.name!r} gives {encoder.dimension}-d vectors, "
                                     f"the index holds {manifest.model_dimension}-d")
        service = cls(resolved, manifest, encoder, settings, second_encoder)
        if warm:
            encoder.encode_queries(["warm-up"])  # the first customer's query should not pay for loading the model
            if service._second is not None:
                service._second.warm()
            shared_dictionaries()  # nor for loading the spelling dictionaries
        return service

    def prime(self, queries: list[str]) -> None:
        """Embed many queries in one batch ahead of searching them (evaluation, batch search)."""
        texts = [t for t in (clean_query(q, self.settings.max_query_chars) for q in queries) if t]
        if texts:
            for text, vector in zip(texts, self._encoder.encode_queries(texts)):
                self._query_vectors[text] = vector
            while len(self._query_vectors) > 4096:
                self._query_vectors.pop(next(iter(self._query_vectors)))

    def embed_queries(self, texts: list[str], keep: bool = True) -> np.ndarray:
        """Query vectors of `texts` (one row each, in the encoder's batches), kept for their searches as `prime`
        keeps them (unless not `keep`: texts no search of this process is expected to ask for); a text embedded
        before is not embedded again. A text is embedded as a search embeds it: cleaned first (an empty one as a
        single space)."""
        cleaned = [clean_query(t, self.settings.max_query_chars) or " " for t in texts]
        if not cleaned:
            return np.zeros((0, self.manifest.model_dimension), dtype=np.float32)
        known = {text: self._query_vectors.get(text) for text in dict.fromkeys(cleaned)}
        missing = [text for text, vector in known.items() if vector is None]
        found = dict(zip(missing, self._encoder.encode_queries(missing))) if missing else {}
        known.update(found)
        if not keep:
            return np.stack([known[text] for text in cleaned]).astype(np.float32, copy=False)
        self._query_vectors.update(found)
        while len(self._query_vectors) > 4096:
            self._query_vectors.pop(next(iter(self._query_vectors)))
        return np.stack([known[text] for text in cleaned]).astype(np.float32, copy=False)

    def remember(self, texts: list[str], vectors: np.ndarray) -> None:
        """Query vectors of `texts` computed before (kept on disk, e.g.), used by their searches like `prime`'s."""
        for text, vector in zip(texts, vectors):
            self._query_vectors[clean_query(text, self.settings.max_query_chars) or " "] = vector
        while len(self._query_vectors) > 4096:
            self._query_vectors.pop(next(iter(self._query_vectors)))

    def _embed(self, text: str) -> np.ndarray:
        vector = self._query_vectors.get(text)
        return vector if vector is not None else self._encoder.encode_queries([text])[0]

    def search(self, query: str, k: int | None = None, audience: str = "public", mode: str = "hybrid",
               lang: str | None = None, cosine_margin: float | None = None,
               score_share: float | None = None, confidence_floor: float | None = None,
               as_typed: bool = False) -> SearchResponse:
        """Ranked articles for `query`, visible to `audience` ('public' or 'internal').

        `mode` 'keyword' or 'vector' ranks by one index alone (for evaluation); confidence is judged the same way.
        `lang` is the reader's language (e.g. the portal's interface language): of an article's translations,
        the one in a Cyrillic query's own language comes first, then the one in `lang`. The list holds at most `k`
        hits and stops where relevance falls off, or is empty when nothing is relevant (search/cutoff.py;
        `cosine_margin`, `score_share` and `confidence_floor` replace the `list_*` settings, e.g. for a stricter
        list, or 0 for the nearest article however unsure); below the
        first article in the query's or the reader's language, articles in other languages are left out.
        `as_typed` searches the text without layout or typo fixes (a text that was fixed when it was recorded).
        Small talk alone ("hi, how are you": search/small_talk.py) lists nothing.
        """
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        k = self.settings.search_k if k is None else max(0, int(k))
        allowed = AUDIENCES.get(audience)
        if allowed is None:
            raise ValueError(f"unknown audience {audience!r}")
        text = clean_query(query, self.settings.max_query_chars)
        if not text or k == 0 or not is_searchable(text):
            return SearchResponse(text, [])
        # Typing slips are fixed only into words the audience's own articles use.
        prepared = (as_given(text) if as_typed
                    else prepare_query(text, lambda word: self._keyword.knows(word, allowed), self._words[audience]))
        if not names_a_topic(prepared.searched):  # small talk once a layout slip or typo is fixed ("ghbdtn")
            return SearchResponse(text, [], prepared.corrected)
        query_vector = self._embed(prepared.searched)
        candidates = self._retrieve(prepared.searched, query_vector, allowed)
        classifier = self._classifier[audience]
        probs = classifier.proba(query_vector)[0]
        category_p = dict(zip(classifier.classes, probs.tolist()))
        base_weight, category_weight = self.fusion_weights[audience]
        weight = keyword_weight(prepared.language, self._languages[audience], base_weight,
                                self.settings.foreign_keyword_factor)
        ranked, fused = rank(mode, candidates, weight, self.settings.fusion, self._category_of, category_p,
                             category_weight)
        ranked = one_version_each(ranked, preferred_languages(lang, prepared.language), self.articles, allowed)
        ranked = without_foreign_tail(ranked, listed_languages(lang, prepared.language), self.articles)
        category, category_prob = predicted_category(classifier.classes, probs)
        foreign = is_foreign(prepared.language, self._languages[audience])
        reads = model_reads(self.manifest.model_name, prepared.searched)
        confidence = answer_confidence(self._confidence[audience], bool(ranked), candidates.passage_scores,
                                       candidates.centroid_best, foreign, prepared.language) if reads else 0.0
        confident = confidence >= self.settings.confidence_threshold
        if self._second is not None and ranked and not confident:  # Latin letters: confident when either model is
            confidence = max(confidence, self._second.confidence(prepared.searched, audience, prepared.language,
                                                                 foreign))
            confident = confidence >= self.settings.confidence_threshold
        margin = self.settings.list_cosine_margin if cosine_margin is None else cosine_margin
        share = self.settings.list_score_share if score_share is None else score_share
        # Text the model cannot read has no confidence to judge by: its keyword matches are listed.
        floor = self.settings.list_confidence_floor if confidence_floor is None else confidence_floor
        floor = floor if reads else 0.0
        ranked = ranked[:self._relevant(ranked[:k], candidates, confident, confidence, floor, margin, share)]
        hits = self._hits(ranked, candidates, fused, category_p)
        return SearchResponse(text, hits, prepared.corrected, category, category_prob, confidence, confident,
                              prepared.suggested)

    def fix_layout(self, text: str, audience: str = "internal") -> str:
        """`text` with words typed in the wrong keyboard layout re-read ("ghbynth yt gtxfnftn" -> "принтер не
        печатает") into words the audience's articles use or, with the spelling dictionaries, correct words of a
        supported language; `text` as given when no word needed it (a ticket's subject keeps both)."""
        allowed = AUDIENCES[audience]
        words = shared_dictionaries()

        def known(word: str) -> bool:  # (short words follow the rest: "yt" is a word of some dictionary too)
            return self._keyword.knows(word, allowed) or (len(word) >= 3 and words.is_word(word))
        return fix_layout(text, known, words.is_word)

    def _relevant(self, ranked: Ranking, candidates: Candidates, confident: bool, confidence: float, floor: float,
                  margin: float, share: float) -> int:
        """How many of `ranked` to list (search/cutoff.py). A translated article is judged by its best version's
        cosine, the one that gave it its place."""
        if nothing_relevant(confident, confidence, floor):
            return 0
        cosine: dict[str, float] = {}
        for key, score in candidates.vector:
            group = self.articles[key].group
            cosine[group] = max(cosine.get(group, score), score)
        # (statistics.median: the same value as numpy's for a short list of floats, a tenth of its time)
        background = statistics.median(candidates.passage_scores) if candidates.passage_scores else 0.0
        return relevant_count([(cosine.get(self.articles[key].group, 0.0), score) for key, score in ranked],
                              background, margin, share)

    def _retrieve(self, text: str, query: np.ndarray, allowed: tuple[str, ...]) -> Candidates:
        n = self.settings.candidates
        keyword = keyword_candidates(self._keyword, text, n, allowed)
        scores, rows = self._vectors.search(query, n * 4, allowed)
        vector, anchors, passage_scores = passage_candidates(scores[0], rows[0], self._passages, self.articles, n,
                                                             allowed)
        near = self._centroids[[self._centroid_row[a] for a, _ in vector]] @ query if vector else np.zeros(0)
        vector_ranked, centroid_best = with_centroids(vector, near, self.settings.centroid_weight)
        return Candidates(keyword, vector, vector_ranked, anchors, passage_scores, centroid_best)

    def _hits(self, ranked: Ranking, candidates: Candidates, fused: Ranking,
              category_p: dict[str, float]) -> list[Hit]:
        fused_score = dict(fused)
        keyword_score, vector_score = dict(candidates.keyword), dict(candidates.vector)
        hits = []
        for article_id, score in ranked:
            meta = self.articles[article_id]
            anchor = candidates.anchors.get(article_id, "")
            heading = next((s["path"] for s in meta.sections if s["anchor"] == anchor), "")  # "Policies › Send"
            parts = {"keyword": keyword_score.get(article_id, 0.0), "vector": vector_score.get(article_id, 0.0)}
            if fused:
                parts["fused"] = fused_score.get(article_id, 0.0)
            parts.update({"category": category_p.get(meta.category, 0.0), "final": score})
            hits.append(Hit(article_id, meta.title, meta.category, score, anchor, heading, meta.lang, meta.audience,
                            parts))
        return hits

    def visible_articles(self, audience: str = "public") -> Mapping[str, IndexedArticle]:
        """The articles `audience` may read, by id; computed once per loaded index (read-only). Their `related`
        and `translations` name only articles `audience` may read too."""
        allowed = AUDIENCES.get(audience)
        if allowed is None:
            raise ValueError(f"unknown audience {audience!r}")
        if audience not in self._visible:
            visible = {key: meta for key, meta in self.articles.items() if meta.audience in allowed}
            self._visible[audience] = MappingProxyType({key: meta.within(visible) for key, meta in visible.items()})
        return self._visible[audience]

    def page(self, meta: IndexedArticle) -> ArticlePage:
        """An article (as `articles` or `visible_articles` gives it) with its HTML and its sections' texts."""
        return self._pages.page(meta)

    def visible_categories(self, audience: str = "public") -> Mapping[str, dict]:
        """The categories `audience` is offered, by id (read-only): customers never see one that holds only
        internal articles."""
        allowed = AUDIENCES.get(audience)
        if allowed is None:
            raise ValueError(f"unknown audience {audience!r}")
        if audience not in self._visible_categories:
            self._visible_categories[audience] = MappingProxyType(
                {cid: c for cid, c in self._categories.items() if c["audience"] in allowed})
        return self._visible_categories[audience]

    @property
    def categories(self) -> Mapping[str, dict]:
        """The categories customers are offered (visible_categories('public'))."""
        return self.visible_categories("public")

    def history(self, article_id: str) -> list[dict]:
        """The commits that touched an article's file, newest first (empty outside git); read on first use."""
        if self._history is None:
            try:
                self._history = _read_json(self._files.history)
            except IndexFormatError:
                self._history = {}
        return list(self._history.get(article_id, []))

    def close(self) -> None:
        self._keyword.close()


def fusion_weights(fitted: Any, settings: Settings) -> tuple[float, float]:
    """The keyword and category weights a search fuses with: those the build fitted for the audience (the manifest's
    `fusion` entry) when the settings ask for fitted weights of score fusion, else the configured ones."""
    configured = (settings.keyword_weight, settings.category_weight)
    if settings.fusion_weights != "fitted" or settings.fusion != "score" or not isinstance(fitted, dict):
        return configured
    try:
        return float(fitted["keyword_weight"]), float(fitted["category_weight"])
    except (KeyError, TypeError, ValueError):
        return configured


def _read_articles(path: Path) -> Mapping[str, IndexedArticle]:
    """articles.json as records by article id (read-only)."""
    articles = _read_json(path)
    if not isinstance(articles, dict):
        raise IndexFormatError(f"{path}: not an object; rebuild the index")
    return MappingProxyType({key: IndexedArticle.from_json(meta, f"{path} article {key!r}")
                             for key, meta in articles.items()})


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexFormatError(f"{path} is missing: the index is incomplete, rebuild it") from None
    except ValueError as exc:
        raise IndexFormatError(f"{path}: not valid JSON ({exc})") from None
