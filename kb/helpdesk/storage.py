"""Where attachments' bytes live, behind one small interface: `put(key, data)`, `open(key)`, `delete(key)`.

Keys are made here (`new_key`), never from a user's file name: random hex, sharded by their first two characters
(`3f/3fa9…`). The database keeps each attachment's key; the storage knows nothing of tickets.

`LocalStorage` keeps files in a folder (the `attachments_dir` setting, `var/attachments` by default: outside the
web root, nothing serves it directly; every download goes through a route that checks who may see the ticket).
Files are written atomically (a temporary file in the same folder, fsynced, then renamed over the key), mode
0600, in folders of mode 0700.

Adding an S3-compatible storage later: write a class with the same three methods over an S3 client (boto3's
`put_object(Bucket, Key, Body)` — a single PUT is atomic there — `get_object(...)["Body"]`, which is a readable
binary stream, and `delete_object`), give it a setting such as `attachments_url = s3://bucket/prefix` in
kb/config_desk.py, and let `storage_from` choose the class from that setting. Nothing else changes: callers
only ever see the `Storage` protocol, and keys are already plain `xx/hex` paths that are valid object names.
"""
from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

_KEY_RE = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{32}(\.[a-z]+)?$")


class Storage(Protocol):
    def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, replacing what was there, all at once (a reader sees the old or the new)."""

    def open(self, key: str) -> BinaryIO:
        """The bytes under `key` as a readable binary file; FileNotFoundError when there are none."""

    def delete(self, key: str) -> None:
        """Remove `key`; nothing happens when it is not there."""


def new_key(suffix: str = "") -> str:
    """A fresh random key (128 bits), optionally with a short suffix such as `.preview`."""
    token = secrets.token_hex(16)
    return f"{token[:2]}/{token}{suffix}"


def check_key(key: str) -> str:
    if not isinstance(key, str) or not _KEY_RE.match(key):
        raise ValueError(f"not a storage key: {key!r}")
    return key


class LocalStorage:
    """Files under one folder, named by their keys."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600, in the key's own folder so the rename stays on one file system.
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)


def storage_from(settings) -> Storage:
    """The storage the settings name (for now always a folder: `attachments_dir`)."""
    return LocalStorage(Path(settings.attachments_dir))
