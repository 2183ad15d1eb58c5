"""The portal as the serving tests start it in a process of its own: the small fake encoder registered (the index is
built with it), and two routes only tests have. `/_test/slow` answers once the file named by KB_TEST_RELEASE exists
(after writing the file named by KB_TEST_STARTED), so a test holds a request in flight for as long as it needs;
`/_test/threads` says how wide the process's compute thread pools are, and names its threads.

    python -m tests.served_app serve ...                                  # `kb serve` (any `kb` command)
    gunicorn ... 'tests.served_app:application()'                         # web.wsgi's entry point
"""
from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

RELEASE_WAIT = 60.0


def slow():
    Path(os.environ["KB_TEST_STARTED"]).write_text(str(os.getpid()), encoding="utf-8")
    release = Path(os.environ["KB_TEST_RELEASE"])
    deadline = time.monotonic() + RELEASE_WAIT
    while not release.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return {"released": release.exists()}


def threads():
    from threadpoolctl import threadpool_info

    import faiss  # noqa: F401  (its OpenMP pool is one of those listed)
    import numpy  # noqa: F401

    pools = {f"{pool['internal_api']}:{Path(pool['filepath']).name}": pool["num_threads"]
             for pool in threadpool_info()}
    if "torch" in sys.modules:
        pools["torch"] = sys.modules["torch"].get_num_threads()
    return {"pid": os.getpid(), "pools": pools, "threads": sorted(t.name for t in threading.enumerate())}


def with_test_routes(app):
    app.add_url_rule("/_test/slow", "test_slow", slow)
    app.add_url_rule("/_test/threads", "test_threads", threads)
    return app


def application():
    from web.wsgi import application as portal, one_compute_thread

    one_compute_thread()  # as the entry point does, before the fake encoder's module loads numpy
    import tests.fakes  # noqa: F401  (registers the fake encoder by name)

    return with_test_routes(portal())


def main() -> None:
    import tests.fakes  # noqa: F401  (registers the fake encoder by name)
    import web
    from kb.cli import main as kb

    create_app = web.create_app
    web.create_app = lambda *args, **kwargs: with_test_routes(create_app(*args, **kwargs))
    kb()


if __name__ == "__main__":
    main()
