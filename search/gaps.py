"""Content gaps: the texts customers failed with (kb/helpdesk/gap_sources.py), grouped by meaning across languages,
each group with the existing article closest to it and a priority.

Grouping (`group_texts`) is greedy average linkage over cosine similarity: texts are taken most frequent first;
each joins the group whose phrasings it is most similar to on average, when that mean cosine reaches the
threshold, and otherwise starts a group. The mean cosine of a vector to a group is its dot product with the sum of
the group's vectors divided by their number, so a text is compared with a group in one product.

The threshold is not a constant: `derive_threshold` reads it from the help center itself. The questions of one
article (and of its translations) are phrasings of one problem; a question and its nearest question of another
article are phrasings of two. The threshold is where the two kinds of error are equal: the share of same-article
pairs below it equals the share of questions whose nearest other-article question is at or above it. It is
computed with the encoder customers' searches use, on the query side (`index_threshold`), so it follows the model.

Priority: `size × (1 − confidence)`, where `size` is how many times customers came with the group's texts and
`confidence` the search's answer confidence for the group's most frequent text: a big group the help center
answers with confidence ranks low, a big group nothing answers ranks first.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from kb.helpdesk.gap_records import read_gap_texts
from search.prepare import is_searchable
from search.vector_cache import VectorCache

EXAMPLES = 5
EXAMPLES_SHOWN = 3  # in `kb gaps`' table
QUESTIONS_PER_ARTICLE = 5  # at most, per article, when the threshold is read from the index
MAX_CALIBRATION_QUESTIONS = 200  # embedded at most to read the threshold (embedding is most of `kb gaps`'s time)
# Used only when fewer than two articles have two phrasings (questions, or a title and a description): the
# threshold derive_threshold gives on the Banking77 help center with all-MiniLM-L6-v2 (0.611, bench/gaps.py).
FALLBACK_THRESHOLD = 0.6


@dataclass
class Gap:
    """A group of texts customers failed with."""

    size: int  # sum of the texts' counts
    texts: list[tuple[str, int]]  # (text, count), most frequent first
    closest: dict[str, Any] | None = None  # {"id", "title", "score"}: the nearest article, score = confidence
    confidence: float = 0.0
    score: float = 0.0  # priority: size × (1 − confidence)
    sources: list[str] = field(default_factory=list)

    @property
    def examples(self) -> list[str]:
        return [text for text, _ in self.texts[:EXAMPLES]]

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "examples": self.examples, "closest": self.closest,
                "score": round(self.score, 4), "texts": len(self.texts), "sources": self.sources}


def group_texts(vectors: np.ndarray, counts: Sequence[int], threshold: float) -> list[list[int]]:
    """Indices of `vectors` (unit rows) grouped by greedy average linkage at `threshold` (see the module doc).
    Rows are taken by descending count (ties: row order); each group lists its rows in that order; groups come
    in order of their first row."""
    order = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    groups: list[list[int]] = []
    sums = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float64)
    for i in order:
        vector = vectors[i].astype(np.float64)
        if groups:
            means = (sums @ vector) / np.array([len(g) for g in groups], dtype=np.float64)
            best = int(np.argmax(means))
            if means[best] >= threshold:
                groups[best].append(i)
                sums[best] += vector
                continue
        groups.append([i])
        sums = np.vstack([sums, vector[None, :]])
    return groups


def derive_threshold(vectors: np.ndarray, labels: Sequence[str]) -> float | None:
    """The equal-error cosine between phrasings of one problem and of two (see the module doc): `vectors` are unit
    rows, `labels` the problem of each. None when fewer than two labels have two rows each."""
    labels = list(labels)
    sims = vectors @ vectors.T
    same = np.array([[a == b for b in labels] for a in labels], dtype=bool)
    upper = np.triu(np.ones_like(same), k=1)
    positives = sims[same & upper]
    paired = {label for label in labels if labels.count(label) >= 2}
    if len(paired) < 2:
        return None
    # each question's nearest question of another problem
    negatives = np.where(same, -np.inf, sims).max(axis=1)
    negatives = negatives[np.isfinite(negatives)]
    # the distinct values in order, as np.unique gives them (np.unique imports numpy.ma, needed nowhere else)
    candidates = np.sort(np.concatenate([positives, negatives]))
    candidates = candidates[np.concatenate([[True], candidates[1:] != candidates[:-1]])]
    missed = np.searchsorted(np.sort(positives), candidates, side="left") / len(positives)  # positives < t
    merged = 1.0 - np.searchsorted(np.sort(negatives), candidates, side="left") / len(negatives)  # negatives >= t
    best = int(np.argmin(np.abs(missed - merged)))
    return float(candidates[best])


def calibration_questions(articles, per_article: int = QUESTIONS_PER_ARTICLE,
                          limit: int = MAX_CALIBRATION_QUESTIONS) -> tuple[list[str], list[str]]:
    """(questions, label of each): up to `per_article` questions of each article with two or more (else its title
    and description, two phrasings of its problem too), labelled with the article's translation group; past
    `limit` questions in all, every k-th such article (by id)."""
    chosen = []
    for _, meta in sorted(articles.items()):
        phrasings = list(meta.questions) if len(meta.questions) >= 2 else [meta.title, meta.description]
        phrasings = [p for p in phrasings if p and p.strip()][:per_article]
        if len(phrasings) >= 2:
            chosen.append((meta.group, phrasings))
    total = sum(len(questions) for _, questions in chosen)
    if total > limit:  # every k-th article, so that the sample spans the whole help center
        chosen = chosen[::-(-total // limit)]
    texts = [q for _, questions in chosen for q in questions]
    labels = [group for group, questions in chosen for _ in questions]
    return texts, labels


def index_threshold(service, audience: str = "public", embed=None) -> float:
    """The grouping threshold of `service`'s help center and model (see the module doc); `embed` (list of texts ->
    matrix) embeds the questions, by default `service.embed_queries`."""
    texts, labels = calibration_questions(service.visible_articles(audience))
    if not texts:
        return FALLBACK_THRESHOLD
    derived = derive_threshold((embed or service.embed_queries)(texts), labels)
    return FALLBACK_THRESHOLD if derived is None else derived


def find_gaps(service, texts: Sequence[Any], threshold: float | None = None, audience: str = "public",
              limit: int | None = None, cache: VectorCache | None = None) -> list[Gap]:
    """Group `texts` (records with .text, .count and .source, e.g. gap_sources.GapText) by meaning with `service`'s
    query encoder, find each group's closest article, and order them by priority (highest first; then size).

    With `limit`, only the `limit` highest-priority groups are returned, and groups are searched biggest first
    only while one could still enter them: a group's priority is at most its size, so once the smallest kept
    priority reaches the next group's size, no smaller group can displace it. With `cache`, texts (and the help
    center's questions) embedded by an earlier run are not embedded again. A group's closest article is searched
    for with its most frequent text as recorded, without layout or typo fixes (a search's text was fixed when it
    was searched; a ticket's is the customer's own words), so no spelling dictionary is loaded for it."""
    usable = [t for t in texts if is_searchable(t.text)]
    if not usable:
        return []
    embed = service.embed_queries if cache is None else lambda batch: cache.vectors(batch, service.embed_queries)
    threshold = index_threshold(service, audience, embed) if threshold is None else threshold
    vectors = embed([t.text for t in usable])
    if cache is not None:
        service.remember([t.text for t in usable], vectors)  # the groups' searches need not embed them again
    groups = []
    for rows in group_texts(vectors, [t.count for t in usable], threshold):
        members = [usable[i] for i in rows]
        groups.append(Gap(size=sum(m.count for m in members), texts=[(m.text, m.count) for m in members],
                          sources=sorted({m.source for m in members})))
    groups.sort(key=lambda g: -g.size)
    gaps: list[Gap] = []
    for gap in groups:
        if limit is not None and len(gaps) >= limit and gaps[limit - 1].score >= gap.size:
            break
        response = service.search(gap.texts[0][0], k=1, audience=audience, confidence_floor=0.0, as_typed=True)
        gap.confidence = float(response.confidence)
        if response.hits:
            hit = response.hits[0]
            gap.closest = {"id": hit.id, "title": hit.title, "score": round(gap.confidence, 4)}
        gap.score = gap.size * (1.0 - gap.confidence)
        gaps.append(gap)
        gaps.sort(key=lambda g: (-g.score, -g.size, g.texts[0][0]))
    return gaps[:limit] if limit is not None else gaps


def recorded_gaps(db, service, since, until=None, limit: int | None = None,
                  cache: VectorCache | None = None) -> list[Gap]:
    """The gaps of [since, until) (None: open): the most frequent failed and ticket-ending searches and unanswered
    tickets the database `db` recorded (kb/helpdesk/gap_sources.py), grouped by `find_gaps`."""
    from kb.helpdesk.gap_sources import gap_texts  # (here: `kb gaps` reads without SQLAlchemy, gap_records.py)

    texts = gap_texts(db, since, until)
    return find_gaps(service, texts, limit=limit, cache=cache)


@dataclass
class GapRun:
    """What `kb gaps` found, and how many of the texts it needed vectors for it had to embed itself (the others
    came from the vector cache, which the serving process keeps warm: search/gap_upkeep.py)."""

    gaps: list[Gap]
    texts: int  # distinct texts embedded or read from the cache: recorded texts and the help center's questions
    embedded: int

    def summary(self) -> dict[str, int]:
        return {"gaps": len(self.gaps), "texts": self.texts, "embedded": self.embedded,
                "cached": self.texts - self.embedded}

    def lines(self, since, as_json: bool = False) -> list[str]:
        """One JSON object per group, or the terminal table (`gap_table`)."""
        if as_json:
            return [json.dumps(g.to_dict(), ensure_ascii=False) for g in self.gaps]
        return gap_table(self.gaps, since)


def gaps_of_index(settings, since, until=None, limit: int | None = None) -> GapRun:
    """`recorded_gaps` for a process that has loaded nothing yet (`kb gaps`): the texts recorded in the database
    `settings.database_url` are read (kb/helpdesk/gap_records.py) in a thread of its own while the index
    `settings.index_dir` loads (SQLite reads release the GIL, so the two overlap); the model is loaded only for
    texts the vector cache (in `settings.model_cache_dir`) lacks."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        texts = pool.submit(read_gap_texts, settings.database_url, since, until)
        from search.service import SearchService

        service = SearchService.load(settings.index_dir, settings, warm=False)
        try:
            cache = VectorCache.for_service(settings.model_cache_dir, service)
            found = find_gaps(service, texts.result(), limit=limit, cache=cache)
        finally:
            service.close()
    cache.save()
    return GapRun(found, cache.requested, cache.embedded)


def gap_table(found: Sequence[Gap], since) -> list[str]:
    """The groups as a table for a terminal: priority, size, closest article and its confidence, examples."""
    if not found:
        return [f"no failed searches or unanswered tickets since {since:%Y-%m-%d}"]
    lines = [f"{'#':>3}  {'score':>8}  {'size':>6}  {'confidence, closest article':<40}  examples"]
    for rank, gap in enumerate(found, start=1):
        closest = f"{gap.closest['score']:.2f} {gap.closest['id']}" if gap.closest else "-"
        examples = " | ".join(gap.examples[:EXAMPLES_SHOWN])
        lines.append(f"{rank:>3}  {gap.score:>8.1f}  {gap.size:>6}  {closest:<40.40}  {examples}")
    return lines
