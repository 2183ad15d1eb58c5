"""The community index: answered community questions, searched beside the articles.

It is built from the database, not by `kb build` (kb/helpdesk/community_threads.py says which questions count),
and held in memory: one row per question in a numpy matrix of unit vectors (a few thousand rows). `refresh` is one
pass of the serving process's background thread (web/community_worker.py): it reads every searchable question
again — cheap next to embedding, and the only way to notice a question hidden, moved to a private topic or merged
since — and embeds only the documents that are new or whose text changed. A pass replaces the searched snapshot in
one assignment, so a search never sees half a pass.

Relevance: a community hit's score is its cosine with the query less `penalty` (`community_search_penalty`); it is
listed below every article whose best passage's cosine is at least that (`merge`), so at equal relevance an
article comes first, and only when it is at least as relevant as the last article listed (`within_list`: the
articles' cut-off, search/cutoff.py, is calibrated; a cosine alone is not, e.g. multilingual-e5-small gives
unrelated texts 0.8); when no article is listed, only above `community_search_min_cosine`. A community hit never
makes a search confident unless an agent endorsed its answer.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from kb.helpdesk.community_threads import Thread, searchable_threads

KIND = "community"


@dataclass(frozen=True)
class CommunityHit:
    question_id: int
    title: str
    score: float  # the cosine less the penalty: comparable with an article's best passage's cosine
    cosine: float
    endorsed: bool
    accepted: bool
    answer: str = ""
    kind: str = KIND

    def to_dict(self) -> dict[str, Any]:
        return {"kind": KIND, "id": self.question_id, "title": self.title, "score": round(self.score, 6),
                "endorsed": self.endorsed, "accepted": self.accepted}

    def excerpt(self, width: int = 200) -> str:
        """The start of the answer, as plain words."""
        words = " ".join(self.answer.replace("`", "").replace("*", "").split())
        return words if len(words) <= width else words[:width].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True)
class Refresh:
    """What one pass did: documents now searchable, embedded in this pass, and dropped."""

    documents: int
    embedded: int
    removed: int


@dataclass(frozen=True)
class _Snapshot:
    threads: tuple[Thread, ...]
    vectors: np.ndarray  # one unit row per thread
    model: str


class CommunityIndex:
    def __init__(self) -> None:
        self._snapshot = _Snapshot((), np.zeros((0, 0), dtype=np.float32), "")
        self._lock = threading.Lock()  # one pass at a time; searches never wait for it
        self.passes = 0
        self.version = 0  # counts the passes that changed what is searched (answers kept for a version stay right)

    def __len__(self) -> int:
        return len(self._snapshot.threads)

    def refresh(self, threads: Sequence[Thread], embed: Callable[[list[str]], np.ndarray], model: str) -> Refresh:
        """Make `threads` the searchable set; embeds (with `embed`, for model `model`) only new or changed texts.
        Another model than the last pass's embeds everything again."""
        with self._lock:
            old = self._snapshot
            known = ({t.text: row for row, t in enumerate(old.threads)} if old.model == model else {})
            missing = list(dict.fromkeys(t.text for t in threads if t.text not in known))
            fresh = _unit(np.asarray(embed(missing), dtype=np.float32)) if missing else None
            new_row = {text: row for row, text in enumerate(missing)}
            rows = [old.vectors[known[t.text]] if t.text in known else fresh[new_row[t.text]] for t in threads]
            width = rows[0].shape[0] if rows else 0
            vectors = np.stack(rows) if rows else np.zeros((0, width), dtype=np.float32)
            kept = {t.question_id for t in threads}
            removed = sum(1 for t in old.threads if t.question_id not in kept)
            self._snapshot = _Snapshot(tuple(threads), vectors, model)
            if (self._snapshot.threads, model) != (old.threads, old.model):
                self.version += 1  # after the swap: an answer kept for the new version is the new snapshot's
            self.passes += 1
            return Refresh(len(threads), len(missing), removed)

    def search(self, query: np.ndarray, k: int, penalty: float, min_cosine: float) -> list[CommunityHit]:
        """The `k` questions nearest `query` (a unit vector) with a cosine of at least `min_cosine`, best first."""
        snap = self._snapshot
        if not snap.threads or k <= 0 or snap.vectors.shape[1] != query.shape[-1]:
            return []
        cosines = snap.vectors @ _unit(query.astype(np.float32).reshape(1, -1))[0]
        order = np.argsort(-cosines, kind="stable")[:k]
        return [CommunityHit(t.question_id, t.title, float(cosines[row]) - penalty, float(cosines[row]),
                             t.endorsed, t.accepted, t.answer)
                for row in order if cosines[row] >= min_cosine for t in (snap.threads[row],)]


def merge(articles: Sequence[Any], community: Sequence[CommunityHit]) -> list[Any]:
    """`articles` (search hits, in their order) with `community` hits, best first, each placed before the first
    article (after the community hits placed before it) whose best passage's cosine (`parts['vector']`) is below
    the community hit's score: below every article of equal or greater relevance met on the way."""
    merged: list[Any] = list(articles)
    floor = 0
    for hit in sorted(community, key=lambda h: -h.score):
        position = next((i for i in range(floor, len(merged))
                         if getattr(merged[i], "kind", "article") != KIND and _relevance(merged[i]) < hit.score),
                        len(merged))
        merged.insert(position, hit)
        floor = position + 1
    return merged


def within_list(community: Sequence[CommunityHit], articles: Sequence[Any], min_cosine: float) -> list[CommunityHit]:
    """The community hits a list may hold: with articles listed, those at least as relevant (after the penalty) as
    the last listed one, so that community answers never lengthen a list the search cut where relevance fell off
    (search/cutoff.py); with none listed, those with a cosine of at least `min_cosine`."""
    if not articles:
        return [h for h in community if h.cosine >= min_cosine]
    floor = min(_relevance(a) for a in articles)
    return [h for h in community if h.score >= floor]


def _relevance(hit: Any) -> float:
    return float(hit.parts.get("vector", 0.0)) if getattr(hit, "parts", None) else 0.0


def refresh_from_database(index: CommunityIndex, sessions: sessionmaker[Session], service: Any,
                          min_votes: int) -> Refresh:
    """One pass: the searchable questions read from the database, embedded with the serving encoder."""
    with sessions() as db:
        threads = searchable_threads(db, min_votes)
    return index.refresh(threads, lambda texts: service.embed_queries(texts, keep=False),
                         service.manifest.model_name)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)
