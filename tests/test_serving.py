"""The serving processes for real, each started as its own process on a free loopback port over the small help
center (built with the fake encoder, registered in the child by tests/served_app.py): `kb serve` and gunicorn with
web.wsgi's entry point finish a request in flight after SIGTERM and exit 0; `kb workers` stops on SIGTERM."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
START = 120.0  # seconds a server may take to load the index and answer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def child_env(portal_settings, tmp_path: Path) -> dict[str, str]:
    """The environment of a serving child: the shared fake-encoder index, this test's SQLite copy, a request log,
    and the files through which /_test/slow says it started and is told to answer."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "KB_CONFIG": "",
           "KB_EMBEDDING_MODEL": "fake-hashing", "KB_INDEX_DIR": str(portal_settings.index_dir),
           "KB_DATABASE_URL": portal_settings.database_url, "KB_SECRET_KEY": "k" * 32,
           "KB_REQUEST_LOG": str(tmp_path / "requests.log"), "KB_SHUTDOWN_TIMEOUT": "30",
           "KB_TEST_STARTED": str(tmp_path / "started"), "KB_TEST_RELEASE": str(tmp_path / "release")}
    env.pop("WEB_CONCURRENCY", None)
    return env


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


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_kb_serve_finishes_the_request_in_flight_after_a_stop_signal_and_exits_0(child_env, tmp_path: Path,
                                                                                 stop_signal):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, err = start([sys.executable, "-m", "tests.served_app", "serve", "--port", str(port)], child_env, tmp_path)
    try:
        wait_until_up(proc, err, base + "/healthz")
        status, _headers, body = get(base + "/readyz")
        assert status == 200 and json.loads(body)["status"] == "ready"
        threads = set(json.loads(get(base + "/_test/threads")[2])["threads"])
        assert {"kb-mail", "kb-gap-vectors", "kb-community-index"} <= threads  # kb serve runs the background work
        slow = SlowRequest(base, child_env)
        proc.send_signal(stop_signal)
        assert refuses_connections(port), f"still taking connections after {stop_signal.name}"
        assert proc.poll() is None and slow.result is None  # the request in flight holds the process
        status, headers, body = slow.answer()
        assert (status, json.loads(body), headers["X-Request-ID"]) == (200, {"released": True}, "slow-1")
        assert proc.wait(timeout=60) == 0
    finally:
        stop(proc)
    said = err.read_text(encoding="utf-8").splitlines()
    assert f"{stop_signal.name}: no new connections; finishing 1 request(s) in flight (at most 30 s)" in said
    assert said[-1] == "stopped", said  # the request finished and the background threads stopped in time
    logged = [json.loads(line) for line in (tmp_path / "requests.log").read_text(encoding="utf-8").splitlines()]
    assert {"request_id": "slow-1", "path": "/_test/slow", "status": 200} in \
        [{key: line[key] for key in ("request_id", "path", "status")} for line in logged]


def test_kb_serve_gives_up_on_a_request_after_shutdown_timeout_and_still_exits_0(child_env, tmp_path: Path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    child_env["KB_SHUTDOWN_TIMEOUT"] = "1"
    proc, err = start([sys.executable, "-m", "tests.served_app", "serve", "--port", str(port)], child_env, tmp_path)
    try:
        wait_until_up(proc, err, base + "/healthz")
        slow = SlowRequest(base, child_env)  # never released
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        slow.thread.join(timeout=30)
        assert slow.result is None and slow.failed is not None
    finally:
        stop(proc)
    said = err.read_text(encoding="utf-8").splitlines()
    assert "SIGTERM: no new connections; finishing 1 request(s) in flight (at most 1 s)" in said
    assert said[-1] == "stopped (1 request(s) cut short)", said


def test_kb_workers_runs_the_background_work_until_sigterm(child_env, tmp_path: Path):
    proc, err = start([sys.executable, "-m", "tests.served_app", "workers"], child_env, tmp_path)
    try:
        deadline = time.monotonic() + START
        while "running the background work" not in err.read_text(encoding="utf-8"):
            assert proc.poll() is None, err.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "kb workers did not start"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        stop(proc)
    said = err.read_text(encoding="utf-8").splitlines()
    assert said[-2:] == ["SIGTERM: stopping the background work (at most 30 s)", "stopped"], said


def test_gunicorn_serves_with_two_single_threaded_workers_and_stops_gracefully(child_env, tmp_path: Path):
    """On a new database: the master creates the schema once before the two workers start (both upgrading it at
    once would race)."""
    child_env["KB_DATABASE_URL"] = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc, err = start([sys.executable, "-m", "gunicorn", "-c", "python:tests.served_gunicorn", "--bind",
                       f"127.0.0.1:{port}", "--workers", "2", "tests.served_app:application()"], child_env, tmp_path)
    try:
        wait_until_up(proc, err, base + "/readyz")
        status, _headers, body = get(base + "/search?q=printer+offline")
        assert status == 200 and "Printer" in body.decode()
        slow = SlowRequest(base, child_env)  # holds one worker: the other answers what follows
        busy = int(slow.started.read_text(encoding="utf-8"))
        status, _headers, body = get(base + "/_test/threads")
        other = json.loads(body)
        assert status == 200 and other["pid"] != busy
        assert other["pools"] and set(other["pools"].values()) == {1}, other["pools"]
        background = {"kb-mail", "kb-gap-vectors", "kb-community-index"}  # `kb workers` runs these, not the workers
        assert not background & set(other["threads"]), other["threads"]
        assert get(base + "/readyz")[0] == 200
        proc.send_signal(signal.SIGTERM)  # the master closes its sockets; the busy worker finishes first
        status, _headers, body = slow.answer()
        assert (status, json.loads(body)) == (200, {"released": True})
        assert proc.wait(timeout=60) == 0
    finally:
        stop(proc)
    logged = [json.loads(line) for line in (tmp_path / "requests.log").read_text(encoding="utf-8").splitlines()]
    assert [line["path"] for line in logged if line["path"].startswith("/search")] == ["/search"]
    assert "kb" not in {line.split(":", 1)[0] for line in err.read_text(encoding="utf-8").splitlines()}

