"""The contact form's suggestions kept for texts asked again: the page asks on every pause in typing, and many
customers type the same few problems, so most texts of `/api/suggest` (and of the community's ask form) have been
searched before.

What is kept is the search's own work — its response, the shown articles' snippets and the community answers
beside them — under everything that work depends on: the index build that answered (a newly swapped-in build is
never answered from an older one's entries), the community index's version, the audience searched for, the
interface language and the text as the search reads it (whitespace folded; letter case is kept, since
multilingual-e5-small reads it and its answer may differ). What belongs to one request is never kept: the
recorded search and its token (a repeated text is still a search the customer made, web/analytics.py), the
result links carrying that token, the typing session, and the known-issue notices active now.

At most `suggest_cache_size` answers are kept per serving process, the least recently asked leaving first;
0 keeps none. One lock guards the entries; the searches themselves run outside it, in parallel.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable, Hashable

from cachetools import LRUCache
from flask import Flask, current_app

from search.community import CommunityHit
from search.service import SearchResponse

EXTENSION = "kb.suggest_cache"


@dataclass(frozen=True)
class Found:
    """A suggestion search's work, the same for every request that asks it: treat it as read-only."""

    response: SearchResponse
    category_title: str
    snippets: tuple[str, ...]  # one per hit the customer may be shown (the response's first, when confident)
    community: tuple[CommunityHit, ...]


class SuggestCache:
    def __init__(self, size: int) -> None:
        self.size = max(0, int(size))
        self._entries: LRUCache | None = LRUCache(maxsize=self.size) if self.size else None
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries) if self._entries is not None else 0

    def get(self, key: Hashable, compute: Callable[[], Found]) -> Found:
        """The answer kept for `key`, else `compute()`'s, kept for the next request that asks it."""
        if self._entries is None:
            return compute()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self.hits += 1
                return found
            self.misses += 1
        found = compute()  # two requests missing the same text at once both search: neither waits for the other
        with self._lock:
            self._entries[key] = found
        return found


def suggest_cache(app: Flask | None = None) -> SuggestCache:
    """The app's cache of suggestion answers, sized by the `suggest_cache_size` setting (made on first use)."""
    app = app or current_app
    cache = app.extensions.get(EXTENSION)
    if cache is None:
        cache = app.extensions.setdefault(EXTENSION, SuggestCache(app.config["KB_SETTINGS"].suggest_cache_size))
    return cache
