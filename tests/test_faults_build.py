"""What a build fault costs the index: nothing. `kb build` killed (SIGKILL) at random points, a disk that fills up
while a build writes: the published index keeps serving, nothing half-written is ever published, what the build
left behind is cleaned up, and the next build succeeds."""
from __future__ import annotations

import errno
import functools
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from indexer import publish
from indexer.build import build_index
from kb.config import Settings
from kb.errors import BuildError
from search.live import LiveSearch
from search.service import SearchService
from tests.conftest import ROOT
from tests.fakes import HashingEncoder

KILLS = 20
SEED = 20261203
# `kb build` with the tests' small fake encoder registered (it is not one of the real models).
BUILD = "import sys, tests.fakes; from kb.cli import cli; sys.exit(cli(['build'], obj={}))"
IMPORTS = "import tests.fakes, kb.cli, indexer.build"  # what a build process does before it builds


def _environment(settings: Settings) -> dict[str, str]:
    return {**os.environ, "KB_ARTICLES_DIR": str(settings.articles_dir), "KB_INDEX_DIR": str(settings.index_dir),
            "KB_EMBEDDING_MODEL": "fake-hashing", "KB_KEEP_BUILDS": "2", "HF_HUB_OFFLINE": "1"}


def run_build(settings: Settings, kill_after: float | None = None, code: str = BUILD) -> tuple[int, str]:
    """`kb build` in its own process; with `kill_after`, SIGKILLed that many seconds after it started (unless it
    finished first). (return code, stderr)."""
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=_environment(settings),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        try:
            process.wait(timeout=kill_after)
        except subprocess.TimeoutExpired:
            process.send_signal(signal.SIGKILL)
    _, err = process.communicate(timeout=120)
    return process.returncode, err


def edit(center: Path, round_: int) -> None:
    """A change for every build to publish: one article more each round."""
    (center / "printers" / f"round-{round_}.md").write_text(
        f"---\ntitle: Printer tray {round_} jammed\ncategory: printers\n---\nOpen tray {round_} and pull the paper.\n",
        encoding="utf-8")


def leftovers(index_dir: Path) -> list[str]:
    """What an interrupted build may leave: staging folders, and links made but not yet renamed into place."""
    root = publish.builds_dir(index_dir)
    return sorted([p.name for p in root.glob("*.tmp")] + [p.name for p in index_dir.parent.glob(f".{index_dir.name}.*")])


@pytest.mark.slow
def test_a_build_killed_at_random_points_never_harms_the_published_index(settings, center):
    build_index(settings, HashingEncoder(), progress=False)  # the first index, and the models later builds reuse
    started = time.monotonic()
    assert run_build(settings, code=IMPORTS)[0] == 0
    imported = time.monotonic() - started
    edit(center, -1)
    started = time.monotonic()
    code, err = run_build(settings)
    whole = time.monotonic() - started  # a build of one more article, process start included
    assert code == 0, err
    encoder = HashingEncoder()
    light = functools.partial(SearchService.load, warm=False)  # (spelling dictionaries are not what is tested)
    live = LiveSearch(settings.index_dir, settings, encoder, interval=0.0, loader=light)
    rng = random.Random(SEED)  # kills fall anywhere from the end of the imports to the end of a whole build
    published = {settings.index_dir.resolve()}  # every build the index link has named
    killed = finished = 0
    for round_ in range(KILLS):
        edit(center, round_)
        before = settings.index_dir.resolve()
        code, err = run_build(settings, kill_after=rng.uniform(0.8 * imported, whole))
        assert code in (0, -signal.SIGKILL), err
        killed, finished = killed + (code != 0), finished + (code == 0)
        now = settings.index_dir.resolve()
        # A killed build either published nothing, or was past its atomic rename (pruning old builds, say):
        # then its build is whole, as the loads below check.
        assert now == before or now not in published
        published.add(now)
        # The index link names a complete build, which loads and answers, fresh and in the serving process.
        assert light(settings.index_dir, settings, encoder).search("printer offline").hits
        live.check(wait=True)
        assert live.last_error is None and live.service.index_dir == now
        assert live.current().search("printer offline").hits[0].id == "printer-offline"
    assert killed >= KILLS // 2, f"only {killed} of {KILLS} builds were killed before they finished"
    edit(center, KILLS)
    code, err = run_build(settings)  # the next build succeeds, and cleans up after the killed ones
    assert code == 0, err
    assert leftovers(settings.index_dir) == []
    service = light(settings.index_dir, settings, encoder)
    assert f"round-{KILLS}" in service.articles and service.search("tray jammed").hits
    kept = [p for p in publish.builds_dir(settings.index_dir).iterdir() if p.is_dir()]
    assert len(kept) <= 3  # the current build and `keep_builds` earlier ones
