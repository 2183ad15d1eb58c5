"""A serving process follows newly published builds: searches from several threads never fail during swaps."""
from __future__ import annotations

import threading
from pathlib import Path

from indexer.build import build_index
from kb.config import Settings
from search.live import LiveSearch
from tests.conftest import write_tree

ROUNDS = 4


def add_round_article(center: Path, n: int) -> None:
    write_tree(center, {f"printers/round-{n}.md": f"""\
        ---
        title: Printer queue round {n}
        category: printers
        questions: [printer queue stuck round {n}]
        ---
        Clear the printer queue, round {n}.
        """})


def test_searches_never_fail_while_builds_swap_the_index(settings: Settings, encoder, center: Path):
    build_index(settings, encoder, progress=False)
    live = LiveSearch(settings.index_dir, settings, encoder, interval=0.0)
    builds: list[set[str]] = [set(live.service.articles)]
    errors: list[BaseException] = []
    mixed: list[str] = []
    served: list[int] = [0]
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                service = live.current()
                response = service.search("printer queue stuck", k=10)
                ids = {h.id for h in response.hits}
                if not ids <= set(service.articles):  # every hit from the build that answered
                    mixed.append(f"{ids - set(service.articles)} not in {service.index_dir.name}")
                served[0] += 1
            except BaseException as exc:  # noqa: BLE001 - any failure is what this test counts
                errors.append(exc)

    threads = [threading.Thread(target=searcher) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for n in range(ROUNDS):
            add_round_article(center, n)
            build_index(settings, encoder, progress=False)
            live.check(wait=True)
            builds.append(set(live.service.articles))
            assert f"round-{n}" in live.service.articles
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == [] and mixed == []
    assert live.reloads == ROUNDS and served[0] > ROUNDS, " ".join(p.name for p in live.loaded)
    assert len({frozenset(b) for b in builds}) == ROUNDS + 1


def test_a_broken_build_leaves_the_serving_index(settings: Settings, encoder, center: Path):
    build_index(settings, encoder, progress=False)
    live = LiveSearch(settings.index_dir, settings, encoder, interval=0.0)
    serving = live.service
    add_round_article(center, 0)
    build_index(settings, encoder, progress=False)
    (settings.index_dir / "passages.json").write_text("[", encoding="utf-8")  # damaged after publishing
    live.check(wait=True)
    assert live.service is serving and "passages.json" in live.last_error
    assert live.current().search("printer offline").hits
    assert not live.check()  # the same broken build is not retried on every request


def test_no_reload_without_a_new_build(settings: Settings, encoder):
    build_index(settings, encoder, progress=False)
    live = LiveSearch(settings.index_dir, settings, encoder, interval=0.0)
    serving = live.current()
    assert not live.check() and live.current() is serving and live.reloads == 0
    build_index(settings, encoder, progress=False)
    assert live.check()
    assert not live.check()  # once per published build


def test_portal_api_answers_every_request_while_builds_swap(settings: Settings, encoder, center: Path, tmp_path,
                                                            monkeypatch):
    from kb import encoder as encoder_module
    from tests.fakes import HashingEncoder
    from web import create_app

    monkeypatch.setitem(encoder_module.ENCODERS, "fake-hashing",
                        lambda threads, batch, precision, **options: HashingEncoder())
    build_index(settings, encoder, progress=False)
    app = create_app(settings.replace(database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", secret_key="s",
                                      reload_interval=0.0, rate_limit_suggest="1000000/minute"))
    statuses: list[int] = []
    seen: set[str] = set()
    errors: list[BaseException] = []
    stop = threading.Event()

    def client_loop() -> None:
        client = app.test_client()
        while not stop.is_set():
            try:
                response = client.get("/api/search?q=printer+queue+stuck&k=10")
                statuses.append(response.status_code)
                seen.update(r["id"] for r in response.get_json()["results"])
            except BaseException as exc:  # noqa: BLE001 - any failure is what this test counts
                errors.append(exc)

    threads = [threading.Thread(target=client_loop) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for n in range(ROUNDS):
            add_round_article(center, n)
            build_index(settings, encoder, progress=False)
            assert wait_until(lambda: f"round-{n}" in seen)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == [] and statuses and set(statuses) == {200}
    assert {f"round-{n}" for n in range(ROUNDS)} <= seen


def wait_until(condition, seconds: float = 30.0) -> bool:
    import time
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False
