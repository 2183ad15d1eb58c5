"""Checksums of an index folder's files, recorded in its manifest by the build: a file truncated, cut short by a
full disk or changed after the build is refused, by name, when the index is loaded, before any reader (Whoosh,
FAISS, numpy) parses it. The manifest carries a checksum of its own content too (kb.index.manifest)."""
from __future__ import annotations

import hashlib
from pathlib import Path

from kb.errors import IndexFormatError
from kb.index.layout import MANIFEST

ALGORITHM = "sha256"  # about 0.7 GB/s on one core with the CPU's SHA instructions


def digest_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, ALGORITHM).hexdigest()


def digest_text(text: str) -> str:
    return hashlib.new(ALGORITHM, text.encode("utf-8")).hexdigest()


def checksums(directory: Path) -> dict[str, str]:
    """The checksum of every file under `directory` but the manifest, by its path inside it (with '/')."""
    return {path.relative_to(directory).as_posix(): digest_file(path)
            for path in sorted(directory.rglob("*")) if path.is_file() and path.name != MANIFEST}


def verify(directory: Path, recorded: dict[str, str]) -> None:
    """IndexFormatError naming the first recorded file that is missing, unreadable or not as the build wrote it."""
    for name, expected in sorted(recorded.items()):
        path = directory / name
        try:
            found = digest_file(path)
        except FileNotFoundError:
            raise IndexFormatError(f"{path} is missing: the index is incomplete, rebuild it") from None
        except OSError as exc:
            raise IndexFormatError(f"{path}: cannot be read ({exc.strerror}); rebuild the index") from None
        if found != expected:
            raise IndexFormatError(f"{path}: damaged (not the content the build wrote: truncated or changed since); "
                                   "rebuild the index")
