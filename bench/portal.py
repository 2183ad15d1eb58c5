"""`/api/suggest` under concurrent clients, with the portal served by waitress as in production: before and after
the suggestions' cache (`suggest_cache_size`), in the same run.

    .venv/bin/python bench/portal.py [--index var/index] [--clients 20] [--seconds 30] [--cache-size 0 2048]
        [--repeat 0.8] [--warm-up] [--analytics on] [--rate-counters library kb] [--rate R ...]

The portal runs as `kb serve` in its own process (waitress, 8 threads, the real embedding model) on a free
loopback port, over the sample help center's index (built from articles/ first when missing) and a fresh SQLite
database, once per `--cache-size`, `--analytics` and `--rate-counters` value. A run with cache size 0 also reads
the known-issue notices on every request (`suggest_notices_seconds = 0`): the request path as it was before either;
the others reuse them for `--notices-seconds`. The suggest rate limit is raised for the run
(KB_RATE_LIMIT_SUGGEST), since 20 clients on one address are far above the per-address default of a real customer.
The counters are kb's (`--rate-counters kb`, web/rate_counters.py) or, for comparison, the `limits` library's own
in-memory storage, which starts a timer thread on nearly every hit (`library`: the request path as it was before).
Each client keeps one HTTP/1.1 connection and asks one text after another for the given time: as soon as the last
is answered, or with `--rate R` at its share of R requests a second (the offered load, spread evenly over the
clients), each latency then counted from when its request was due, so that a server falling behind is charged
for the wait (no coordinated omission): the latency at a given load rather than at saturation. A share `--repeat`
of the texts is drawn from the help center's real phrasings, asked again and again as many customers ask alike:
the golden queries (articles/queries.yml) and the development phrasings (bench/data/dev_questions.jsonl), and the
first half of each as the page asks while someone types. The rest are asked once each: real customer questions of
Banking77 and Bitext (`--data`, ../shared/data), out of this help center's scope, as much unique traffic is.
With `--warm-up`, every repeated text is asked once before the clock starts (the cache warm, as after a while of
serving). The query model's ONNX export is read from KB_MODEL_CACHE_DIR, else the checkout's var/models, as a
deployment's start reads it (a start without it exports the model through torch first: minutes' work once).
Reported per run: time from starting the process to its first 200 of /api/suggest (cold start),
resident memory of the serving process after the run, p50/p95/p99 latency, requests per second, errors (any
failed request or status other than 200), the searches the database recorded, and the load average before and
after (the machine may be shared); and the ratios of each cached run to the uncached one. Written to
bench/out/portal.json. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import csv
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
import yaml

from kb.index.layout import IndexFiles

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
# `kb serve` counting rate limits with limits' MemoryStorage itself instead of web/rate_counters.py's.
LIBRARY_COUNTERS = ("import web.rate_counters as counters; counters.storage_uri = lambda configured: configured; "
                    "from kb.cli import main; main()")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def repeated_texts(seed: int = 7) -> list[str]:
    """The help center's real phrasings (golden queries, development phrasings) and their typed first halves."""
    golden = [q["query"] for q in yaml.safe_load((ROOT / "articles" / "queries.yml").read_text(encoding="utf-8"))]
    with open(ROOT / "bench" / "data" / "dev_questions.jsonl", encoding="utf-8") as lines:
        dev = [json.loads(line)["query"] for line in lines if line.strip()]
    typed = [" ".join(q.split()[:max(1, len(q.split()) // 2)]) for q in golden + dev]
    found = list(dict.fromkeys(q for q in golden + dev + typed if len(q) >= 3))
    random.Random(seed).shuffle(found)
    return found


def unique_texts(data: Path, avoid: set[str], seed: int = 7) -> list[str]:
    """Customer questions asked once each: Banking77's and Bitext's (out of the help center's scope)."""
    found: list[str] = []
    for path, column in ((data / "banking77" / "train.csv", "text"),
                         (data / "bitext-customer-service" / "bitext_8k_customer_service.csv", "utterance")):
        if path.is_file():
            with open(path, encoding="utf-8-sig", newline="") as handle:
                found += [row[column] for row in csv.DictReader(handle)]
    found = [t for t in dict.fromkeys(" ".join(t.split()) for t in found) if len(t) >= 3 and t not in avoid]
    random.Random(seed).shuffle(found)
    return found


class Texts:
    """What the clients ask: a share `repeat` from the repeated texts, the rest each unique text once (then the
    unique ones again, counted as `unique_exhausted`)."""

    def __init__(self, repeated: list[str], unique: list[str], repeat: float, seed: int = 11) -> None:
        self.repeated, self.unique, self.repeat = repeated, unique or repeated, repeat
        self._next = 0
        self._lock = threading.Lock()
        self.unique_exhausted = False
        self.seed = seed

    def chooser(self, client: int):
        rng = random.Random(self.seed * 1000 + client)

        def choose() -> tuple[str, bool]:
            if rng.random() < self.repeat:
                return rng.choice(self.repeated), True
            with self._lock:
                n, self._next = self._next, self._next + 1
                self.unique_exhausted |= n >= len(self.unique)
            return self.unique[n % len(self.unique)], False
        return choose


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
        time.sleep(0.05)
    raise SystemExit("the portal did not start in time")


def ask(conn: http.client.HTTPConnection, text: str) -> tuple[int, bytes]:
    conn.request("GET", "/api/suggest?q=" + urllib.parse.quote(text))
    response = conn.getresponse()
    return response.status, response.read()


def client(port: int, choose, stop_at: float, latencies: list[float], repeated: list[bool],
           errors: list[str], interval: float = 0.0, first: float = 0.0) -> None:
    """Ask one text after another until `stop_at`; with `interval`, one every `interval` seconds from `first` (the
    monotonic clock), each latency counted from when the request was due, so a late one counts its wait."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    due = first
    while time.monotonic() < stop_at:
        text, again = choose()
        if interval:
            if due >= stop_at:
                break
            time.sleep(max(0.0, due - time.monotonic()))
            start = time.perf_counter() - max(0.0, time.monotonic() - due)  # (behind schedule: since it was due)
            due += interval
        else:
            start = time.perf_counter()
        try:
            status, body = ask(conn, text)
            elapsed = time.perf_counter() - start
            if status != 200 or not body.startswith(b"{"):
                errors.append(f"status {status}")
            else:
                latencies.append(elapsed)
                repeated.append(again)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(type(exc).__name__)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.close()


def run_clients(port: int, texts: Texts, clients: int, seconds: float, rate: float = 0.0
                ) -> tuple[list[float], list[bool], list[str], float]:
    """`clients` concurrent clients asking `texts` for `seconds`, each as fast as it is answered or, with `rate`,
    together `rate` requests a second spread evenly over the clients: the answered requests' latencies, whether
    each asked a repeated text, the failed requests' kinds, and the wall time the clients took."""
    latencies: list[float] = []
    repeated: list[bool] = []
    errors: list[str] = []
    now = time.monotonic()
    stop_at = now + seconds
    interval = clients / rate if rate else 0.0
    threads = [threading.Thread(target=client, args=(port, texts.chooser(n), stop_at, latencies, repeated, errors,
                                                     interval, now + interval * n / clients))
               for n in range(clients)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, repeated, errors, time.monotonic() - began


def smaps_mib(pid: int | str = "self") -> dict[str, float]:
    """A process's RSS, PSS and their anonymous and file-backed parts in MiB (Linux /proc/PID/smaps_rollup)."""
    wanted = {"Rss": "rss", "Pss": "pss", "Anonymous": "anonymous", "Pss_File": "pss_file"}
    found = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in wanted:
            found[wanted[key] + "_mib"] = round(int(rest.split()[0]) / 1024, 1)
    return found


def resident_mib(pid: int) -> float:
    """The resident memory of process `pid` and its children (workers), in MiB."""
    total = 0
    for proc in [pid] + children(pid):
        try:
            for line in Path(f"/proc/{proc}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return round(total / 1024, 1)


def children(pid: int) -> list[int]:
    try:
        found = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []
    return found + [c for p in found for c in children(p)]


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def serve_and_load(args, texts: Texts, analytics: str, cache_size: int, counters: str = "kb",
                   rate: float = 0.0) -> dict:
    """One run: `kb serve` with the `analytics` and `suggest_cache_size` settings and the rate-limit `counters`,
    loaded by the clients (as fast as answered, or at `rate` requests a second)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_DATABASE_URL": f"sqlite:///{tmp}/kb.sqlite3",
               "KB_SECRET_KEY": "bench-secret-key-of-forty-characters-x", "KB_RATE_LIMIT_SUGGEST": "1000000/minute",
               "KB_ANALYTICS": analytics, "KB_SUGGEST_CACHE_SIZE": str(cache_size),
               "KB_SUGGEST_NOTICES_SECONDS": str(args.notices_seconds if cache_size else 0),
               "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
               # the query model's ONNX export as a deployment has it (made once, by the install or the first
               # start): from the temporary folder the default var/models would be empty, and every start would
               # export the model again through torch
               "KB_MODEL_CACHE_DIR": os.environ.get("KB_MODEL_CACHE_DIR", str(ROOT / "var" / "models"))}
        env.pop("KB_CONFIG", None)
        log = open(Path(tmp) / "server.log", "w+", encoding="utf-8")  # a file: a full pipe would stall the server
        load_before = load()
        started = time.monotonic()
        kb = ["-m", "kb"] if counters == "kb" else ["-c", LIBRARY_COUNTERS]
        server = subprocess.Popen([sys.executable, *kb, "serve", "--index", str(args.index), "--port", str(port)],
                                  cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(port, server)
            cold_start = time.monotonic() - started
            rss_ready = resident_mib(server.pid)
            warmed = 0
            if args.warm_up:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for text in texts.repeated:
                    warmed += ask(conn, text)[0] == 200
                conn.close()
            latencies, repeated, errors, wall = run_clients(port, texts, args.clients, args.seconds, rate)
            rss_after = resident_mib(server.pid)
            load_after = load()
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
        "analytics": analytics, "cache_size": cache_size, "rate_counters": counters, "seconds": round(wall, 1),
        "offered_rate": rate or None,
        "notices_seconds": args.notices_seconds if cache_size else 0,
        "requests": len(latencies) + len(errors), "errors": len(errors), "error_kinds": sorted(set(errors)),
        "repeated_share": round(sum(repeated) / len(repeated), 3) if repeated else 0.0,
        "requests_per_second": round(len(latencies) / wall, 1),
        "warm_up_requests": warmed, "searches_recorded": recorded,  # (with warm-up's and the readiness probe's)
        "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1), "server_errors_logged": server_log.count("Traceback"),
        "cold_start_s": round(cold_start, 2), "rss_mib_ready": rss_ready, "rss_mib_after": rss_after,
        "load_before": load_before, "load_after": load_after,
    }


def recorded_searches(database: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(database) as connection:
            return int(connection.execute("SELECT count(*) FROM searches").fetchone()[0])
    except sqlite3.Error:
        return 0


def ratios(run: dict, base: dict) -> dict:
    return {"requests_per_second": round(run["requests_per_second"] / max(base["requests_per_second"], 1e-9), 2),
            "p50": round(run["p50_ms"] / base["p50_ms"], 3), "p95": round(run["p95_ms"] / base["p95_ms"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--analytics", nargs="+", choices=("on", "off"), default=["on"],
                        help="Run once per value of the analytics setting (default: recording, as served).")
    parser.add_argument("--cache-size", nargs="+", type=int, default=[0, 2048],
                        help="Run once per value of suggest_cache_size (default: without, then with the cache).")
    parser.add_argument("--rate-counters", nargs="+", choices=("library", "kb"), default=["kb"],
                        help="Run once per rate-limit counting: kb's (web/rate_counters.py) or limits' MemoryStorage.")
    parser.add_argument("--notices-seconds", type=float, default=5.0,
                        help="suggest_notices_seconds of the cached runs (a run without the cache reads them always).")
    parser.add_argument("--repeat", type=float, default=0.8,
                        help="Share of requests asking a text of the repeated set; the rest are asked once each.")
    parser.add_argument("--warm-up", action="store_true", help="Ask every repeated text once before timing.")
    parser.add_argument("--rate", nargs="+", type=float, default=[0.0],
                        help="Run once per offered load: the clients together ask this many texts a second, evenly "
                             "spaced, each latency counted from when its request was due (0: as fast as answered).")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="Folder of banking77/ and bitext-customer-service/ (the texts asked once).")
    args = parser.parse_args()
    args.index = args.index.absolute()  # the server runs in a temporary folder
    ensure_index(args.index)
    repeated = repeated_texts()
    texts = Texts(repeated, unique_texts(args.data, set(repeated)), args.repeat)
    runs = [serve_and_load(args, texts, mode, size, counters, rate) for size in args.cache_size
            for mode in args.analytics for counters in args.rate_counters for rate in args.rate]
    result = {"endpoint": "/api/suggest", "server": "waitress (kb serve, 8 threads)", "clients": args.clients,
              "cpus": os.cpu_count(), "index": str(args.index), "repeat": args.repeat, "warm_up": args.warm_up,
              "repeated_texts": len(repeated), "unique_texts": len(texts.unique),
              "unique_exhausted": texts.unique_exhausted, "runs": runs}
    for run in runs:
        same = [r for r in runs if r is not run and r["analytics"] == run["analytics"]
                and r["offered_rate"] == run["offered_rate"]]
        uncached = next((r for r in same if r["cache_size"] == 0 and r["rate_counters"] == run["rate_counters"]),
                        None)
        if uncached:
            run["vs_uncached"] = ratios(run, uncached)
        library = next((r for r in same if r["cache_size"] == run["cache_size"] and r["rate_counters"] == "library"),
                       None)
        if library and run["rate_counters"] == "kb":
            run["vs_library_counters"] = ratios(run, library)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "portal.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for run in runs:
        offered = f" offering {run['offered_rate']:g} requests/s" if run["offered_rate"] else ""
        print(f"/api/suggest, cache {run['cache_size']}, analytics {run['analytics']}, {run['rate_counters']} rate "
              f"counters, {args.clients} clients{offered}, "
              f"{run['seconds']:.0f} s, repeated {run['repeated_share']:.0%}: {run['requests']} requests "
              f"({run['requests_per_second']}/s), p50 {run['p50_ms']} ms, p95 {run['p95_ms']} ms, "
              f"p99 {run['p99_ms']} ms, errors {run['errors']}, searches recorded {run['searches_recorded']}; "
              f"cold start {run['cold_start_s']} s, RSS {run['rss_mib_ready']} -> {run['rss_mib_after']} MiB; "
              f"load {run['load_before']} -> {run['load_after']}")
        if "vs_uncached" in run:
            print(f"  vs uncached: {run['vs_uncached']}")
        if "vs_library_counters" in run:
            print(f"  vs limits' MemoryStorage: {run['vs_library_counters']}")


if __name__ == "__main__":
    main()
