"""Serving processes as the tests start them: each its own process on a free loopback port, its standard error in
a file, and a request the test holds in flight in one of them (tests/served_app.py's `/_test/slow`)."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START = 120.0  # seconds a server may take to load the index and answer


def serving_env(index_dir: Path, database_url: str, folder: Path) -> dict[str, str]:
    """The environment of a serving child over an index built with the fake encoder: its database, a request log,
    and the files through which /_test/slow says it started and is told to answer, all in `folder`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "KB_CONFIG": "",
           "KB_EMBEDDING_MODEL": "fake-hashing", "KB_INDEX_DIR": str(index_dir), "KB_DATABASE_URL": database_url,
           "KB_SECRET_KEY": "k" * 32, "KB_REQUEST_LOG": str(folder / "requests.log"), "KB_SHUTDOWN_TIMEOUT": "30",
           "KB_TEST_STARTED": str(folder / "started"), "KB_TEST_RELEASE": str(folder / "release")}
    env.pop("WEB_CONCURRENCY", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args: list[str], env: dict[str, str], folder: Path) -> tuple[subprocess.Popen, Path]:
    """A child process with its standard error in a file (a pipe nobody reads could fill and stall it)."""
    err = folder / f"stderr-{len(list(folder.glob('stderr-*')))}.txt"
    with open(err, "wb") as sink:
        proc = subprocess.Popen(args, cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=sink)
    return proc, err


def get(url: str, timeout: float = 30.0, headers: dict[str, str] | None = None) -> tuple[int, Message, bytes]:
    """Status, headers (their names in any case) and body."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def wait_until_up(proc: subprocess.Popen, err: Path, url: str) -> None:
    deadline = time.monotonic() + START
    while True:
        try:
            if get(url, timeout=5)[0] == 200:
                return
        except OSError:
            pass
        assert proc.poll() is None, err.read_text(encoding="utf-8", errors="replace")
        assert time.monotonic() < deadline, "the server did not start: " + err.read_text(encoding="utf-8")
        time.sleep(0.2)


def refuses_connections(port: int, within: float = 20.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return True
        time.sleep(0.05)
    return False


class SlowRequest:
    """/_test/slow in a thread of its own: in flight until the test writes the release file."""

    def __init__(self, base: str, env: dict[str, str]) -> None:
        self.started, self.release = Path(env["KB_TEST_STARTED"]), Path(env["KB_TEST_RELEASE"])
        self.result: tuple[int, Message, bytes] | None = None
        self.failed: Exception | None = None
        self.thread = threading.Thread(target=self._run, args=(base + "/_test/slow",), daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.started.exists():
            assert time.monotonic() < deadline, "the slow request never reached the app"
            time.sleep(0.05)

    def _run(self, url: str) -> None:
        try:
            self.result = get(url, timeout=90, headers={"X-Request-ID": "slow-1"})
        except (OSError, http.client.HTTPException) as exc:  # the server gave up on it
            self.failed = exc

    def answer(self) -> tuple[int, Message, bytes]:
        self.release.write_text("go", encoding="utf-8")
        self.thread.join(timeout=90)
        assert self.result is not None
        return self.result


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait(timeout=30)
