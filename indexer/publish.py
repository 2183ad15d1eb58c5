"""Atomic publishing of index builds.

`<index>` is a symlink to `<index>.builds/<build-id>/`. A build is written to `<build-id>.tmp`, renamed when
complete, and published by replacing the symlink in one rename: readers see the old index or the new one,
never a half-written one. A crash leaves at most a `.tmp` folder (and a link not yet renamed into place), removed by
the next build.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from kb.errors import BuildError


def builds_dir(index_dir: Path) -> Path:
    return index_dir.parent / (index_dir.name + ".builds")


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """One build at a time per index; a second one fails at once instead of racing the first."""
    root = builds_dir(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildError(f"another build of {index_dir} is running; try again when it has finished") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_staging_dir(index_dir: Path) -> Path:
    root = builds_dir(index_dir)
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob("*.tmp"):
        shutil.rmtree(stale, ignore_errors=True)
    for stale in index_dir.parent.glob(f".{index_dir.name}.*.link"):  # a build killed while linking
        stale.unlink(missing_ok=True)
    staging = root / f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.tmp"
    staging.mkdir()
    return staging


def current_build(index_dir: Path) -> Path | None:
    """The folder the index currently points at, or None when there is no index."""
    if index_dir.is_symlink() or index_dir.is_dir():
        resolved = index_dir.resolve()
        return resolved if resolved.is_dir() else None
    return None


def sync_tree(root: Path) -> None:
    """Flush every file under `root`, then the folders themselves, to disk: a power cut after the publishing
    rename must not leave the symlink pointing at files whose data never reached the disk."""
    folders = [root]
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            continue
        if path.is_dir():
            folders.append(path)
        elif path.is_file():
            _fsync(path, os.O_RDONLY)
    for folder in reversed(folders):  # deepest first, so each folder's entries are durable before its parent's
        _fsync(folder, os.O_RDONLY | os.O_DIRECTORY)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(index_dir: Path, staging: Path, keep: int) -> Path:
    """Make `staging` the current index in one atomic rename and prune older builds.

    The build is flushed to disk before it is renamed and linked, and each rename is flushed after it."""
    final = staging.with_suffix("")
    sync_tree(staging)
    os.replace(staging, final)
    link = index_dir.parent / f".{index_dir.name}.{uuid.uuid4().hex[:8]}.link"
    try:
        _fsync(final.parent, os.O_RDONLY | os.O_DIRECTORY)
        if index_dir.is_dir() and not index_dir.is_symlink():
            # An index folder from before builds were kept beside it: move it aside first.
            os.replace(index_dir, builds_dir(index_dir) / f"legacy-{uuid.uuid4().hex[:8]}")
        os.symlink(os.path.relpath(final, index_dir.parent), link)
        os.replace(link, index_dir)
    except BaseException:  # not published (e.g. no room for the link): the build goes, as a staging folder would
        link.unlink(missing_ok=True)
        discard(final)
        raise
    _fsync(index_dir.parent, os.O_RDONLY | os.O_DIRECTORY)
    _prune(index_dir, final, keep)
    return final


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def _prune(index_dir: Path, current: Path, keep: int) -> None:
    builds = sorted((p for p in builds_dir(index_dir).iterdir() if p.is_dir() and not p.name.endswith(".tmp")
                     and p != current), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in builds[keep:]:
        shutil.rmtree(old, ignore_errors=True)
