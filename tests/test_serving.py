"""The serving processes for real, each started as its own process on a free loopback port over the small help
center (built with the fake encoder, registered in the child by tests/served_app.py): `kb serve` and gunicorn with
web.wsgi's entry point finish a request in flight after SIGTERM and exit 0; `kb workers` stops on SIGTERM."""
from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.serving_processes import (START, SlowRequest, free_port, get, refuses_connections, serving_env, start, stop,
                                     wait_until_up)

pytestmark = pytest.mark.slow


@pytest.fixture
def child_env(portal_settings, tmp_path: Path) -> dict[str, str]:
    """The environment of a serving child: the shared fake-encoder index, this test's SQLite copy, a request log,
    and the files through which /_test/slow says it started and is told to answer."""
    return serving_env(portal_settings.index_dir, portal_settings.database_url, tmp_path)


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

