"""What must survive a crash or a power cut: a published index is on disk before it is linked, and the
database file that holds password hashes and tickets is readable by its owner only."""
from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from indexer import publish
from indexer.build import build_index
from kb.helpdesk.db import make_engine, open_database
from search.service import SearchService


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_every_index_file_is_flushed_before_the_build_is_published(settings, encoder, monkeypatch):
    synced: set[Path] = set()
    events: list[tuple[str, object]] = []
    real_fsync, real_open, real_replace = os.fsync, os.open, os.replace
    opened: dict[int, Path] = {}

    def tracking_open(path, flags, *args, **kwargs):
        fd = real_open(path, flags, *args, **kwargs)
        opened[fd] = Path(path).resolve()
        return fd

    def tracking_fsync(fd):
        synced.add(opened.get(fd, Path("?")))
        events.append(("fsync", opened.get(fd)))
        return real_fsync(fd)

    def tracking_replace(src, dst):
        events.append(("replace", Path(dst)))
        return real_replace(src, dst)

    monkeypatch.setattr(publish.os, "open", tracking_open)
    monkeypatch.setattr(publish.os, "fsync", tracking_fsync)
    monkeypatch.setattr(publish.os, "replace", tracking_replace)
    build_index(settings, encoder)

    final = settings.index_dir.resolve()
    staging = final.with_suffix(".tmp")
    files = [p for p in final.rglob("*") if p.is_file()]
    assert files
    # Each file was flushed under its staging name, before the staging folder was renamed into place.
    first_replace = next(i for i, (kind, _) in enumerate(events) if kind == "replace")
    flushed_before = {p for kind, p in events[:first_replace] if kind == "fsync"}
    missing = [p for p in files if staging / p.relative_to(final) not in flushed_before]
    assert not missing, f"not flushed before publishing: {missing}"
    assert staging in flushed_before  # the folder's own entries too
    # The renames are flushed: the builds folder after the build's rename, the index's folder after the link.
    assert final.parent in synced and settings.index_dir.parent.resolve() in synced
    assert SearchService.load(settings.index_dir, settings, encoder).search("printer offline").hits


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path: Path):
    os.umask(0o022)  # the usual umask would make a new file world-readable
    path = tmp_path / "var" / "kb.sqlite3"
    engine, _ = open_database(f"sqlite:///{path}")
    with engine.begin() as connection:  # a write creates the WAL beside it
        connection.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
        connection.execute(text("INSERT INTO probe VALUES (1)"))
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()
        assert _mode(wal) == 0o600
    assert _mode(path) == 0o600
    engine.dispose()


def test_an_existing_world_readable_database_is_narrowed(tmp_path: Path):
    path = tmp_path / "kb.sqlite3"
    path.touch()
    os.chmod(path, 0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert _mode(path) == 0o600
