"""The production command beside `kb serve`: throughput, latency and memory per process on this machine.

    .venv/bin/python bench/serving.py [--index var/index] [--workers 1 2] [--clients 8] [--seconds 10]

Each run serves the sample help center's index (built from articles/ first when missing) over a fresh SQLite
database on a free loopback port, with the real embedding model: once as `kb serve` (waitress, 8 threads, one
process), then as `gunicorn -c python:web.gunicorn_conf 'web.wsgi:application()'` with each `--workers` count.
The clients (bench/portal.py's: one HTTP/1.1 connection each; a share `--repeat` of the help center's real
phrasings and their first words, the rest Banking77 and Bitext questions asked once) load `/api/suggest` for the
given time, with the suggest rate limit raised and `analytics = off` (the query
model is cached in KB_MODEL_CACHE_DIR, else var/models). After the load, the memory of every serving process is read from /proc (RSS, and PSS: shared pages split between the
processes that map them, so that the PSS of the workers adds up to what they take together). Reported per run:
requests per second, p50/p95 latency, errors and the memory per process; and each run's throughput as a ratio of
`kb serve`'s. Written to bench/out/serving.json. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from portal import (Texts, ensure_index, free_port, repeated_texts, run_clients, smaps_mib, unique_texts,
                    wait_ready)

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return sorted(int(child) for child in text)


def load(port: int, texts: Texts, args) -> dict:
    latencies, _, errors, wall = run_clients(port, texts, args.clients, args.seconds)
    ms = np.array(latencies) * 1000 if latencies else np.array([float("nan")])
    return {"requests_per_second": round(len(latencies) / wall, 1), "errors": len(errors),
            "p50_ms": round(float(np.percentile(ms, 50)), 1), "p95_ms": round(float(np.percentile(ms, 95)), 1)}


def run(name: str, command: list[str], args, texts: Texts) -> dict:
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "KB_DATABASE_URL": f"sqlite:///{tmp}/kb.sqlite3",
               "KB_SECRET_KEY": "bench-secret-key-of-forty-characters-x", "KB_RATE_LIMIT_SUGGEST": "1000000/minute",
               "KB_ANALYTICS": "off", "KB_INDEX_DIR": str(args.index.resolve()), "KB_PORT": str(port),
               "PYTHONPATH": str(ROOT), "KB_MODEL_CACHE_DIR": os.environ.get("KB_MODEL_CACHE_DIR",
                                                                               str(ROOT / "var" / "models"))}
        env.pop("KB_CONFIG", None)
        env.pop("WEB_CONCURRENCY", None)
        with open(Path(tmp) / "server.log", "w+", encoding="utf-8") as log:
            server = subprocess.Popen(command, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_ready(port, server)
                figures = load(port, texts, args)
                pids = children(server.pid) if "gunicorn" in command else [server.pid]
                figures["processes"] = [smaps_mib(pid) for pid in pids]
                if "gunicorn" in command:
                    figures["master"] = smaps_mib(server.pid)
            finally:
                server.terminate()
                figures_exit = server.wait(timeout=60)
    return {"server": name, **figures, "exit_code": figures_exit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--repeat", type=float, default=0.8,
                        help="Share of requests asking a text of the repeated set (as bench/portal.py).")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                        help="Folder of the public data sets the texts asked once come from.")
    args = parser.parse_args()
    ensure_index(args.index)
    repeated = repeated_texts()
    texts = Texts(repeated, unique_texts(args.data, set(repeated)), args.repeat)
    runs = [run("kb serve (waitress, 8 threads)", [sys.executable, "-m", "kb", "serve"], args, texts)]
    for count in args.workers:
        runs.append(run(f"gunicorn, {count} worker(s)", [sys.executable, "-m", "gunicorn", "-c",
                                                        "python:web.gunicorn_conf", "--workers", str(count),
                                                        "web.wsgi:application()"], args, texts))
    base = runs[0]["requests_per_second"]
    for figures in runs:
        figures["throughput_vs_kb_serve"] = round(figures["requests_per_second"] / base, 2) if base else None
    result = {"endpoint": "/api/suggest", "clients": args.clients, "seconds": args.seconds, "cpus": os.cpu_count(),
              "load_average_after": [round(x, 1) for x in os.getloadavg()], "index": str(args.index), "runs": runs}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "serving.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for figures in runs:
        memory = ", ".join(f"RSS {p['rss_mib']:.0f} / PSS {p['pss_mib']:.0f} MiB" for p in figures["processes"])
        if "master" in figures:
            memory += f"; master RSS {figures['master']['rss_mib']:.0f} / PSS {figures['master']['pss_mib']:.0f} MiB"
        print(f"{figures['server']}: {figures['requests_per_second']} req/s "
              f"(x{figures['throughput_vs_kb_serve']} of kb serve), p50 {figures['p50_ms']} ms, "
              f"p95 {figures['p95_ms']} ms, errors {figures['errors']}, exit {figures['exit_code']}; "
              f"per process: {memory}")
    print(f"load average after the runs (other work on the machine included): {result['load_average_after']}")


if __name__ == "__main__":
    main()
