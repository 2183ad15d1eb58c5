"""`kb serve --watch`: rebuild the index (incrementally) whenever a file under the articles folder changes.

Polling the folder's file list and modification times once a second costs a few stat calls per article and
needs no platform file-event API. A build that fails (an article with errors) prints the problems and leaves
the serving index as it was; the next change tries again.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable

from indexer.build import BuildReport, build_index
from kb.config import Settings
from kb.embedding.encoders import Encoder, load_encoder
from kb.errors import ArticleError, KbError

log = logging.getLogger(__name__)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every visible file under `root` with its modification time and size."""
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts):
            continue
        try:
            stat = path.stat()
        except OSError:
            continue  # removed while listing
        if path.is_file():
            found[rel.as_posix()] = (stat.st_mtime_ns, stat.st_size)
    return found


class Watcher:
    """Watches settings.articles_dir from a daemon thread and rebuilds settings.index_dir on every change."""

    def __init__(self, settings: Settings, encoder: Encoder | None = None, include_drafts: bool = False,
                 interval: float = 1.0, report: Callable[[str], None] = print) -> None:
        self.settings = settings
        self.include_drafts = include_drafts
        self.interval = interval
        self.report = report
        self._given = encoder
        self._encoder: Encoder | None = None  # loaded on demand when none was given
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen = snapshot(settings.articles_dir)
        self.builds = 0
        self.failures = 0

    def start(self) -> "Watcher":
        self._thread = threading.Thread(target=self._run, name="kb-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            current = snapshot(self.settings.articles_dir)
            if current != self._seen:
                self._seen = current
                self.rebuild()

    def build(self) -> BuildReport:
        """Build the index now; raises as build_index does."""
        return build_index(self.settings, self._given or self._encoder_for, progress=False,
                           include_drafts=self.include_drafts)

    def rebuild(self) -> BuildReport | None:
        """Build after a change; a failure is reported and leaves the serving index."""
        try:
            report = self.build()
        except ArticleError as exc:
            self.failures += 1
            self.report("articles have errors; still serving the previous index:\n" +
                        "\n".join(str(p) for p in exc.problems if p.is_error))
            return None
        except KbError as exc:
            self.failures += 1
            self.report(f"build failed; still serving the previous index: {exc}")
            return None
        self.builds += 1
        self.report(f"rebuilt: {report.articles} article(s), {report.embedded} passage(s) embedded "
                    f"in {report.seconds:.1f} s")
        return report

    def _encoder_for(self, model_name: str) -> Encoder:
        """The same encoder for every rebuild, loaded by the first one that has something to embed (again only
        if the help center's languages change the model `auto` stands for)."""
        if self._encoder is None or self._encoder.name != model_name:
            self._encoder = load_encoder(model_name, self.settings.build_threads, self.settings.embedding_batch_size,
                                         self.settings.embedding_precision)
        return self._encoder


def start_watching(settings: Settings, include_drafts: bool = False,
                   report: Callable[[str], None] = print) -> Watcher:
    """`kb serve --watch`: build the preview index now, then rebuild it on every change from a daemon thread.
    The returned watcher's settings are the ones to serve: with drafts, a separate `<index>-preview` folder
    (drafts never reach the published index), and pages that poll for a new build at least twice a second."""
    if include_drafts:
        settings = settings.replace(index_dir=settings.index_dir.with_name(settings.index_dir.name + "-preview"))
    settings = settings.replace(reload_interval=min(settings.reload_interval, 0.5))
    watcher = Watcher(settings, include_drafts=include_drafts, report=report)
    watcher.build()
    watcher.start()
    report(f"watching {settings.articles_dir} (drafts {'shown' if include_drafts else 'hidden'})")
    return watcher
