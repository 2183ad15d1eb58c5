"""Each article's history from git: when it was last changed, by whom, how often, and the commits themselves.

One `git log` over the articles folder answers for every article (a file's history follows its current path).
Outside a git repository, or without git, articles simply have no history and their date is the file's.
"""
from __future__ import annotations

import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

MAX_COMMITS = 100  # per article, newest first, kept for the history page
_RECORD, _FIELD = "\x1e", "\x1f"


@dataclass(frozen=True)
class Commit:
    commit: str
    date: str  # ISO 8601 with the author's offset
    author: str
    message: str

    def to_dict(self) -> dict:
        return asdict(self)


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120,
                              encoding="utf-8", errors="replace")
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def head(root: Path) -> str | None:
    """The commit checked out in the repository holding `root`; None outside git or before a first commit."""
    out = _git(root, "rev-parse", "HEAD")
    return out.strip() if out else None


def histories(root: Path, files: list[Path]) -> dict[Path, list[Commit]]:
    """Commits touching each of `files` (resolved paths), newest first; {} outside a git repository."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None:
        return {}
    top_dir = Path(top.strip())
    log = _git(top_dir, "log", f"--format={_RECORD}%H{_FIELD}%aI{_FIELD}%an{_FIELD}%s", "--name-only",
               "--", str(root.resolve()))
    if log is None:
        return {}
    wanted = {f.resolve() for f in files}
    found: dict[Path, list[Commit]] = {}
    for record in log.split(_RECORD)[1:]:
        header, _, names = record.partition("\n")
        fields = header.split(_FIELD)
        if len(fields) != 4:
            continue
        commit = Commit(*fields)
        for name in names.splitlines():
            path = (top_dir / name).resolve() if name.strip() else None
            if path in wanted:
                commits = found.setdefault(path, [])
                if len(commits) < MAX_COMMITS:
                    commits.append(commit)
    return found


def uncommitted(root: Path) -> set[Path]:
    """Files under `root` with changes git has not committed (modified, added or untracked)."""
    top = _git(root, "rev-parse", "--show-toplevel")
    status = _git(root, "status", "--porcelain", "-z", "--untracked-files=all", "--", ".")
    if top is None or status is None:
        return set()
    out = set()
    entries = status.split("\0")
    i = 0
    while i < len(entries):
        entry = entries[i]
        if len(entry) > 3:
            out.add((Path(top.strip()) / entry[3:]).resolve())
            if entry[0] in "RC":  # a rename's or copy's source follows as its own entry
                i += 1
        i += 1
    return out


def summary(path: Path, commits: list[Commit], dirty: bool) -> dict:
    """What an article page shows: last updated, authors (most commits first), revisions, uncommitted edits."""
    counts: dict[str, int] = {}
    for c in commits:
        counts[c.author] = counts.get(c.author, 0) + 1
    if commits and not dirty:
        updated = commits[0].date
    else:
        try:
            updated = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).isoformat(timespec="seconds")
        except OSError:
            updated = commits[0].date if commits else None
    return {"updated": updated, "authors": sorted(counts, key=lambda a: (-counts[a], a)),
            "revisions": len(commits), "uncommitted": dirty}
