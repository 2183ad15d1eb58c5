"""The WSGI entry point of a multi-process server (the production command, README "Running in production"):

    gunicorn -c python:web.gunicorn_conf 'web.wsgi:application()'

Each worker process calls `application()`, which reads the settings as `kb serve` does (the file named by
KB_CONFIG, else ./kb.toml, then KB_* variables), loads the index and the query model, and returns the portal. It
starts none of the background threads: `kb workers` runs them, once per deployment.

A worker computes in one thread: the math libraries' thread pools (OpenMP, OpenBLAS, MKL, numexpr) default to one
thread before any of them is loaded, and the query model uses `embedding_threads` (1 by default). Several workers
then share the cores instead of each starting a pool as wide as the machine.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import MutableMapping

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")


def one_compute_thread(environ: MutableMapping[str, str] = os.environ) -> None:
    """One thread per math library's pool, unless the operator set its variable (read when the library loads)."""
    for name in THREAD_VARIABLES:
        environ.setdefault(name, "1")


def application(config_file: str | None = None):
    """The portal of one worker process, from the settings `kb serve` would read (`config_file` in place of
    KB_CONFIG or ./kb.toml, when given). A bad setting or a missing index stops the worker with kb's message."""
    one_compute_thread()
    from kb.config import load_settings
    from kb.errors import KbError
    from web import create_app

    try:
        return create_app(load_settings(Path(config_file) if config_file else None))
    except KbError as exc:
        print(f"kb: {exc}", file=sys.stderr, flush=True)
        raise
