"""What a build fault costs the index: nothing. `kb build` killed (SIGKILL) at random points, a disk that fills up
while a build writes: the published index keeps serving, nothing half-written is ever published, what the build
left behind is cleaned up, and the next build succeeds."""
from __future__ import annotations

import errno
import functools
import os
import random
import re
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
    links = index_dir.parent.glob(f".{index_dir.name}.*")
    return sorted([p.name for p in root.glob("*.tmp")] + [p.name for p in links])


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


class Counting:
    """A file opened for writing whose writes the disk counts (attributes other than writes pass through)."""

    def __init__(self, handle, disk: "FillingDisk") -> None:
        self._handle, self._disk = handle, disk

    def write(self, data):
        self._disk.wrote(self._handle.name)
        return self._handle.write(data)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._handle, name)

    def __iter__(self):
        return iter(self._handle)

    def __enter__(self) -> "Counting":
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()


class FillingDisk:
    """A disk under `root` that fills up: every write to a file under it, every file copied to it and every link
    made in it counts, and from the `full_at`-th on (or from the first to the file named `full_at`, or ending so
    when it starts with a dot) each raises OSError(ENOSPC), as a full disk does. Without `full_at` it only counts,
    and keeps the names written."""

    def __init__(self, root: Path, full_at: int | str | None = None) -> None:
        self.root, self.full_at = str(root), full_at
        self.count = 0
        self.names: list[str] = []
        self.refused: list[str] = []

    def wrote(self, name) -> None:
        self.count += 1
        name = str(name)
        self.names.append(Path(name).name)
        base, at = Path(name).name, self.full_at
        full = at is not None and (self.refused or (self.count >= at if isinstance(at, int) else
                                                    base == at or (at.startswith(".") and base.endswith(at))))
        if full:
            self.refused.append(name)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), name)

    def _mine(self, path) -> bool:
        return isinstance(path, (str, os.PathLike)) and os.path.abspath(path).startswith(self.root)

    def install(self, monkeypatch) -> "FillingDisk":
        import builtins
        import io
        import shutil

        real_open, real_copy, real_symlink = io.open, shutil.copyfile, os.symlink

        def opened(file, mode="r", *args, **kwargs):
            handle = real_open(file, mode, *args, **kwargs)
            return Counting(handle, self) if self._mine(file) and set(mode) & set("wax+") else handle

        def copied(src, dst, *args, **kwargs):
            if self._mine(dst):
                self.wrote(dst)
            return real_copy(src, dst, *args, **kwargs)

        def linked(src, dst, *args, **kwargs):
            if self._mine(dst):
                self.wrote(dst)
            return real_symlink(src, dst, *args, **kwargs)

        monkeypatch.setattr(builtins, "open", opened)
        monkeypatch.setattr(io, "open", opened)
        monkeypatch.setattr(shutil, "copyfile", copied)
        monkeypatch.setattr(os, "symlink", linked)
        return self


@pytest.mark.slow
def test_a_disk_that_fills_up_during_a_build_costs_nothing_but_that_build(settings, center, monkeypatch):
    from click.testing import CliRunner

    from kb.cli import cli

    encoder = HashingEncoder()
    build_index(settings, encoder, progress=False)
    live = LiveSearch(settings.index_dir, settings, encoder, interval=0.0,
                      loader=functools.partial(SearchService.load, warm=False))
    root = settings.index_dir.parent
    with monkeypatch.context() as patched:
        edit(center, 0)
        counted = FillingDisk(root).install(patched)
        build_index(settings, encoder, progress=False)  # how many writes a build makes
    writes = counted.count
    own = sorted({n for n in counted.names if not n.startswith(".")})  # its files (not the link: a random name)
    assert {"manifest.json", "vectors-public.faiss", "embeddings.npy", "classifier-public.npz"} <= set(own)
    live.check(wait=True)
    serving = settings.index_dir.resolve()
    builds = sorted(p.name for p in publish.builds_dir(settings.index_dir).iterdir())
    rng = random.Random(SEED)
    # The disk fills at the first write to each file the build writes but Whoosh's many (their names are drawn
    # anew each build), at the link that publishes the build, and at random writes.
    points: list[int | str] = [n for n in own if not re.match(r"_?(public|internal)_", n)]
    points += [".link", *rng.sample(range(1, writes), 6)]
    for round_, full_at in enumerate(points, start=1):
        edit(center, round_)
        with monkeypatch.context() as patched:
            disk = FillingDisk(root, full_at).install(patched)
            with pytest.raises(BuildError) as failure:
                build_index(settings, encoder, progress=False)
        message = str(failure.value)
        assert disk.refused, f"no write refused at {full_at}"
        assert "No space left on device" in message and disk.refused[0] in message, message
        assert "nothing was published" in message
        assert settings.index_dir.resolve() == serving, f"published after a failure at {full_at}"
        assert sorted(p.name for p in publish.builds_dir(settings.index_dir).iterdir()) == builds, full_at
        assert leftovers(settings.index_dir) == [], full_at
        live.check(wait=True)
        assert live.service.index_dir == serving and live.current().search("printer offline").hits
        assert SearchService.load(settings.index_dir, settings, encoder, warm=False).search("printer offline").hits
    # `kb build` says so in one line, without a traceback, and exits 1.
    monkeypatch.setenv("KB_ARTICLES_DIR", str(settings.articles_dir))
    monkeypatch.setenv("KB_INDEX_DIR", str(settings.index_dir))
    monkeypatch.setenv("KB_EMBEDDING_MODEL", "fake-hashing")
    with monkeypatch.context() as patched:
        FillingDisk(root, writes // 2).install(patched)
        result = CliRunner().invoke(cli, ["build"], obj={})
    assert result.exit_code == 1 and "No space left on device" in result.output
    assert "Traceback" not in result.output and settings.index_dir.resolve() == serving
    # With room again, the next build is published.
    report = build_index(settings, encoder, progress=False)
    assert settings.index_dir.resolve() == report.build_dir != serving
    assert f"round-{len(points)}" in SearchService.load(settings.index_dir, settings, encoder, warm=False).articles
