"""The serving process keeps `kb gaps`' vector cache warm (search/vector_cache.py), so that the command, and the
gaps page, find the vectors of the texts they read already computed and rarely load the model or embed anything.

An upkeep pass reads the texts `kb gaps` would read now (kb/helpdesk/gap_sources.py): the most frequent failed
searches and unanswered tickets over its default period and over everything recorded (what `--since` before the
first recorded day reads), MARGIN times as many as it reads, so that texts climbing into its top are already there,
and the help center's questions that its grouping threshold is read from. It embeds the ones the cache lacks (the
texts that came, or climbed, since the last pass) in batches of BATCH with the serving query encoder, without
keeping them among the service's recent query vectors, and writes them into the cache file as `kb gaps` does.
Reading the counts costs as much as `kb gaps`' own reading; the embedding is what the command is spared.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from kb.helpdesk.gap_sources import GAPS_DAYS, SEARCH_TEXTS, TICKET_TEXTS, gap_texts
from kb.helpdesk.models import utcnow
from search.gaps import calibration_questions
from search.prepare import is_searchable
from search.vector_cache import VectorCache

BATCH = 16  # texts embedded at once: a serving process's searches wait at most one batch for a core
MARGIN = 2


@dataclass(frozen=True)
class Upkeep:
    texts: int  # distinct texts `kb gaps` would read now (with the margin) and the help center's questions
    embedded: int  # of those, embedded by this pass (the others were in the cache)


def upkeep_texts(db, service, now: datetime) -> list[str]:
    """The distinct texts an upkeep pass makes sure the cache holds (see the module doc), most frequent first."""
    texts: list[str] = []
    for since in (now - timedelta(days=GAPS_DAYS), None):
        texts += [t.text for t in gap_texts(db, since, searches=SEARCH_TEXTS * MARGIN, tickets=TICKET_TEXTS * MARGIN)
                  if is_searchable(t.text)]
    texts += calibration_questions(service.visible_articles("public"))[0]
    return list(dict.fromkeys(texts))


def warm_gap_vectors(sessions, service, folder: Path, now: datetime | None = None, batch: int = BATCH,
                     stop: threading.Event | None = None) -> Upkeep:
    """One upkeep pass (see the module doc) with the database `sessions` and the search service `service`, into
    the cache in `folder`; a set `stop` ends it after the current batch (what was embedded is still written)."""
    with sessions() as db:
        texts = upkeep_texts(db, service, now or utcnow())
    cache = VectorCache.for_service(folder, service)
    missing = cache.missing(texts)
    done = 0
    for start in range(0, len(missing), batch):
        if stop is not None and stop.is_set():
            break
        chunk = missing[start:start + batch]
        cache.add(chunk, service.embed_queries(chunk, keep=False))
        done += len(chunk)
    cache.save()
    return Upkeep(len(texts), done)
