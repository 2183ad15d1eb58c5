"""A search service that follows the index: a newly published build is loaded beside the serving one and swapped in.

`kb build` publishes a build by repointing the index link in one rename. `LiveSearch.current()` notices the new
target (checked at most every `interval` seconds, on the caller's clock, never on a timer thread), loads it in a
background thread with the same encoder (the model is never reloaded), and replaces the serving service with one
assignment. A caller holds on to the service it got for the whole of its work, so it never sees two builds mixed,
and nothing waits for a load. A build that fails to load leaves the serving one in place and is not retried
until the index link changes again.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Callable

from kb.config import Settings
from kb.embedding.encoders import Encoder
from search.service import SearchService

log = logging.getLogger(__name__)


class LiveSearch:
    def __init__(self, index_dir: Path, settings: Settings, encoder: Encoder | None = None,
                 interval: float = 1.0, loader: Callable[..., SearchService] | None = None) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings
        self.interval = interval
        self._loader = loader or SearchService.load
        self._service = self._loader(self.index_dir, settings, encoder)
        self._encoder = self._service._encoder
        self._tried = self._service.index_dir  # the last build target a load was attempted for
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        self._loading: threading.Thread | None = None
        self.loaded: list[Path] = []  # the builds swapped in, in order
        self.last_error: str | None = None

    @property
    def reloads(self) -> int:
        return len(self.loaded)

    @property
    def service(self) -> SearchService:
        """The serving service, without checking for a newer build."""
        return self._service

    def current(self) -> SearchService:
        """The serving service; starts loading a newer build in the background when one was published."""
        now = time.monotonic()
        if now - self._checked >= self.interval:
            self._checked = now
            self.check()
        return self._service

    def check(self, wait: bool = False) -> bool:
        """Start loading the build the index link points at, if it is new; with `wait`, finish it first.
        Returns whether a load was started."""
        with self._lock:  # read the link under the lock: a stale read must never start loading an older build
            target = self._target()
            if target is None or target == self._tried or (self._loading and self._loading.is_alive()):
                loading = self._loading
                started = False
            else:
                self._tried = target
                loading = self._loading = threading.Thread(target=self._load, args=(target,),
                                                           name="kb-index-reload", daemon=True)
                loading.start()
                started = True
        if wait and loading is not None:
            loading.join()
        return started

    def _target(self) -> Path | None:
        try:
            return self.index_dir.resolve(strict=True)
        except OSError:
            return None  # between an unlink and a rename, or removed: keep serving what is loaded

    def _load(self, target: Path) -> None:
        try:
            service = self._loader(target, self.settings, self._encoder)
        except Exception as exc:  # noqa: BLE001  whatever a damaged build raises, the serving one stays
            self.last_error = f"{target}: {exc}"
            log.error("new index not loaded, still serving %s: %s", self._service.index_dir, exc)
            return
        self.loaded.append(target)
        self._service = service  # one assignment: callers get the old service or the new one, whole
        self.last_error = None
        log.info("now serving %s", target)
