"""A serving process follows newly published builds: searches from several threads never fail during swaps."""
from __future__ import annotations

import threading
from pathlib import Path

from indexer.build import build_index
from kb.config import Settings
from search.live import LiveSearch
from tests.concurrency import wait_for, while_running
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
    mixed: list[str] = []
    served: list[int] = [0]

    def search() -> None:
        service = live.current()
        ids = {h.id for h in service.search("printer queue stuck", k=10).hits}
        if not ids <= set(service.articles):  # every hit from the build that answered
            mixed.append(f"{ids - set(service.articles)} not in {service.index_dir.name}")
        served[0] += 1

    def swap_builds() -> None:
        for n in range(ROUNDS):
            add_round_article(center, n)
            build_index(settings, encoder, progress=False)
            live.check(wait=True)
            builds.append(set(live.service.articles))
            assert f"round-{n}" in live.service.articles

    errors = while_running(search, swap_builds)
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
    from kb.embedding import encoders as encoder_module
    from tests.fakes import HashingEncoder
    from web import create_app

    monkeypatch.setitem(encoder_module.ENCODERS, "fake-hashing",
                        lambda threads, batch, precision, **options: HashingEncoder())
    build_index(settings, encoder, progress=False)
    app = create_app(settings.replace(database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}",
                                      secret_key="k" * 32, reload_interval=0.0,
                                      rate_limit_suggest="1000000/minute",
                                      rate_limit_search="1000000/minute"))
    statuses: list[int] = []
    seen: set[str] = set()
    clients = threading.local()  # one test client per thread, as each browser has its own

    def search() -> None:
        if not hasattr(clients, "client"):
            clients.client = app.test_client()
        response = clients.client.get("/api/search?q=printer+queue+stuck&k=10")
        statuses.append(response.status_code)
        seen.update(r["id"] for r in response.get_json()["results"])

    def swap_builds() -> None:
        for n in range(ROUNDS):
            add_round_article(center, n)
            build_index(settings, encoder, progress=False)
            assert wait_for(lambda: f"round-{n}" in seen)

    errors = while_running(search, swap_builds)
    assert errors == [] and statuses and set(statuses) == {200}
    assert {f"round-{n}" for n in range(ROUNDS)} <= seen
