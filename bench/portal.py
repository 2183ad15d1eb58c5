"""`/api/suggest` latency under concurrent clients, with the portal served by waitress as in production.

    .venv/bin/python bench/portal.py [--index var/index] [--clients 20] [--seconds 30]

The portal runs as `kb serve` in its own process (waitress, 8 threads, the real embedding model) on a free
loopback port, over the sample help center's index (built from articles/ first when missing) and a fresh SQLite
database. The suggest rate limit is raised for the run (KB_RATE_LIMIT_SUGGEST), since 20 clients on one address
are far above the per-address default of a real customer. Each client keeps one HTTP/1.1 connection and sends
customer questions taken from the index (and their first words, as the page asks while someone types) one
after another for the given time. It runs once without recording searches (`analytics = off`) and once with
(`on`, the default), each on a fresh server and database. Reported per run: p50/p95/p99 latency, requests per
second, errors (any failed request or status other than 200) and the searches the database recorded; and the
ratio of the two p50s. Written to bench/out/portal.json. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import numpy as np

from kb.index.layout import IndexFiles

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def queries_from(index: Path, seed: int = 7) -> list[str]:
    """Customer questions of the public articles, and prefixes of them as typed."""
    articles = json.loads(IndexFiles(index).articles.read_text(encoding="utf-8"))
    questions = [q for a in articles.values() if a["audience"] == "public" for q in a["questions"]]
    typed = [" ".join(q.split()[:max(1, len(q.split()) // 2)]) for q in questions]
    found = [q for q in questions + typed if len(q) >= 3]
    random.Random(seed).shuffle(found)
    return found


def ensure_index(index: Path) -> None:
    if IndexFiles(index).manifest.is_file():
        return
    print(f"building the sample help center into {index} ...", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "kb", "build", "--index", str(index)], cwd=ROOT, check=True)


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"kb serve exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/api/suggest?q=printer")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("the portal did not start in time")


def client(port: int, queries: list[str], offset: int, stop_at: float, latencies: list[float],
           errors: list[str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    i = offset
    while time.monotonic() < stop_at:
        path = "/api/suggest?q=" + urllib.parse.quote(queries[i % len(queries)])
        i += 1
        start = time.perf_counter()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
            elapsed = time.perf_counter() - start
            if response.status != 200 or not body.startswith(b"{"):
                errors.append(f"status {response.status}")
            else:
                latencies.append(elapsed)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def serve_and_load(args, queries: list[str], analytics: str) -> dict:
    """One run: `kb serve` with the `analytics` setting, loaded by the clients for the given time."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_DATABASE_URL": f"sqlite:///{tmp}/kb.sqlite3",
               "KB_SECRET_KEY": "bench-secret-key-of-forty-characters-x", "KB_RATE_LIMIT_SUGGEST": "1000000/minute", "KB_ANALYTICS": analytics}
        env.pop("KB_CONFIG", None)
        log = open(Path(tmp) / "server.log", "w+", encoding="utf-8")  # a file: a full pipe would stall the server
        server = subprocess.Popen([sys.executable, "-m", "kb", "serve", "--index", str(args.index), "--port", str(port)],
                                  cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(port, server)
            latencies: list[float] = []
            errors: list[str] = []
            stop_at = time.monotonic() + args.seconds
            threads = [threading.Thread(target=client, args=(port, queries, n * 17, stop_at, latencies, errors))
                       for n in range(args.clients)]
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.monotonic() - started
            time.sleep(2.0)  # the event log writes at least once a second
            recorded = recorded_searches(Path(tmp) / "kb.sqlite3")
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.seek(0)
            server_log = log.read()
            log.close()
    ms = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return {
        "analytics": analytics, "seconds": round(wall, 1), "requests": len(latencies) + len(errors),
        "errors": len(errors), "error_kinds": sorted(set(errors)),
        "requests_per_second": round(len(latencies) / wall, 1), "searches_recorded": recorded,
        "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1), "server_errors_logged": server_log.count("Traceback"),
    }


def recorded_searches(database: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(database) as connection:
            return int(connection.execute("SELECT count(*) FROM searches").fetchone()[0])
    except sqlite3.Error:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--analytics", nargs="+", choices=("on", "off"), default=["off", "on"],
                        help="Run once per value of the analytics setting (default: without, then with recording).")
    args = parser.parse_args()
    ensure_index(args.index)
    queries = queries_from(args.index)
    runs = [serve_and_load(args, queries, mode) for mode in args.analytics]
    result = {"endpoint": "/api/suggest", "server": "waitress (kb serve, 8 threads)", "clients": args.clients,
              "cpus": os.cpu_count(), "index": str(args.index), "distinct_queries": len(queries), "runs": runs}
    base = next((r for r in runs if r["analytics"] == "off"), None)
    if base and len(runs) > 1:
        result["p50_ratio_recording_vs_not"] = round(runs[-1]["p50_ms"] / base["p50_ms"], 3)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "portal.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for run in runs:
        print(f"/api/suggest, analytics {run['analytics']}, {args.clients} clients, {run['seconds']:.0f} s: "
              f"{run['requests']} requests ({run['requests_per_second']}/s), p50 {run['p50_ms']} ms, "
              f"p95 {run['p95_ms']} ms, p99 {run['p99_ms']} ms, errors {run['errors']}, "
              f"searches recorded {run['searches_recorded']}")
    if "p50_ratio_recording_vs_not" in result:
        print(f"p50 with recording / without: {result['p50_ratio_recording_vs_not']}")


if __name__ == "__main__":
    main()
