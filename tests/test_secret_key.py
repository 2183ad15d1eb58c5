"""The secret key: generated once into its file (whole, by exactly one of several processes starting together),
and an empty, short or readable-by-others key refused at start-up with a message naming the setting or file."""
from __future__ import annotations

import os
import stat
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from kb.errors import ConfigError
from tests.portal import make_app
from web.security import secret_key

GOOD_KEY = "an-owner-only-key-that-is-long-enough-0123456789"


def key_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)
    return path


def test_an_empty_key_file_stops_the_start_naming_the_file(portal_index, portal_settings, tmp_path):
    settings = replace(portal_settings, secret_key="", secret_key_file=key_file(tmp_path / "secret_key", ""))
    with pytest.raises(ConfigError, match=r"secret_key: the secret key file is empty; delete it"):
        make_app(settings, portal_index[1])


def test_a_short_key_file_is_refused(portal_settings, tmp_path):
    settings = replace(portal_settings, secret_key="", secret_key_file=key_file(tmp_path / "key", "abc123\n"))
    with pytest.raises(ConfigError, match=r"key: .*too short.*6 characters; at least 32.*'secret_key_file'"):
        secret_key(settings)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660], ids=lambda mode: f"{mode:04o}")
def test_a_key_file_others_may_read_is_refused_like_ssh_does(portal_settings, tmp_path, mode):
    path = key_file(tmp_path / "key", GOOD_KEY, mode)
    with pytest.raises(ConfigError, match=rf"permissions {mode:04o} are too open.*run `chmod 600 {path}`"):
        secret_key(replace(portal_settings, secret_key="", secret_key_file=path))
    os.chmod(path, 0o600)
    assert secret_key(replace(portal_settings, secret_key="", secret_key_file=path)) == GOOD_KEY


@pytest.mark.parametrize("configured", ["short", " " * 40, "x" * 31])
def test_a_short_configured_key_is_refused_naming_the_setting(portal_index, portal_settings, configured):
    with pytest.raises(ConfigError, match=r"setting 'secret_key' is too short"):
        make_app(replace(portal_settings, secret_key=configured), portal_index[1])


def test_a_long_enough_configured_key_is_used(portal_settings):
    assert secret_key(replace(portal_settings, secret_key=f" {GOOD_KEY}\n")) == GOOD_KEY


def test_concurrent_first_starts_all_get_the_same_whole_key(portal_settings, tmp_path):
    """50 processes' worth of first starts on a fresh file, ten times over: one key, never an empty one."""
    for round_ in range(10):
        folder = tmp_path / f"round{round_}"
        settings = replace(portal_settings, secret_key="", secret_key_file=folder / "var" / "secret_key")
        start = threading.Barrier(50)
        keys: list[str] = []
        errors: list[BaseException] = []

        def first_start() -> None:
            start.wait()
            try:
                keys.append(secret_key(settings))
            except BaseException as exc:  # noqa: BLE001 - any failure is what the test counts
                errors.append(exc)

        threads = [threading.Thread(target=first_start) for _ in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors and len(keys) == 50
        assert len(set(keys)) == 1 and len(keys[0]) >= 32
        path = settings.secret_key_file
        assert path.read_text(encoding="utf-8").strip() == keys[0]
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert sorted(p.name for p in path.parent.iterdir()) == ["secret_key"]  # no temporary files left
