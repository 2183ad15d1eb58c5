"""The site's secret key: the configured one, or one generated once into `secret_key_file`. It signs session
cookies (web), unsubscribe and password links, and reply addresses that name a ticket (mail), so the serving
process and the `kb mail` commands read the same key."""
from __future__ import annotations

import os
import secrets
import stat
import tempfile
from pathlib import Path

from kb.config import MIN_KEY_CHARS, Settings
from kb.errors import ConfigError


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept in `secret_key_file` (readable by its owner only).

    Refuses an empty or short key file, and one that other users may read, with a ConfigError naming the file
    (a configured key that is too short is refused with the other settings, by `kb.config.validate_settings`).
    """
    if settings.secret_key:
        return settings.secret_key.strip()
    path = Path(settings.secret_key_file)
    key = _read_key_file(path)
    return key if key is not None else _create_key_file(path)


def _read_key_file(path: Path) -> str | None:
    """The key kept in `path`, None when there is no such file."""
    try:
        with open(path, "rb") as fh:
            mode = stat.S_IMODE(os.fstat(fh.fileno()).st_mode)
            if mode & 0o077 and os.name == "posix":
                raise ConfigError(f"{path}: permissions {mode:04o} are too open: the secret key file must be readable "
                                  f"by its owner only; run `chmod 600 {path}` (setting 'secret_key_file')")
            data = fh.read(4096)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the secret key file: {exc.strerror} "
                          f"(setting 'secret_key_file')") from None
    try:
        key = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        key = ""
    if len(key) < MIN_KEY_CHARS:
        what = "is empty" if not key else f"holds a key too short to be safe ({len(key)} characters; at least " \
                                          f"{MIN_KEY_CHARS})"
        raise ConfigError(f"{path}: the secret key file {what}; delete it to have a new key generated (signed-in "
                          f"visitors are signed out) or write a longer key into it (setting 'secret_key_file')")
    return key


def _create_key_file(path: Path) -> str:
    """Generate a key into `path`, or read the one another process put there first.

    The key is written to a temporary file and synced, then hard-linked into place: a reader sees either no file
    or the whole key, and of processes starting together the first link wins and the others read its key.
    """
    key = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the secret key file: {exc.strerror} "
                          f"(setting 'secret_key_file')") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(key + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:  # another process was first: use its key
            theirs = _read_key_file(path)
            if theirs is None:  # removed again in between: try once more from scratch
                return _create_key_file(path)
            return theirs
        except OSError as exc:
            raise ConfigError(f"{path}: cannot create the secret key file: {exc.strerror}; set 'secret_key' "
                              f"instead (setting 'secret_key_file')") from None
    finally:
        os.unlink(temp)
    return key
