"""The serving process keeps `kb gaps`' vector cache warm (search/gap_upkeep.py, web/gap_worker.py): after one
upkeep pass the command embeds nothing; writers and readers of the cache file never leave it broken or lose each
other's rows; a failing pass is logged and never reaches the serving process."""
from __future__ import annotations

import json
import logging
import threading
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kb.cli import cli
from kb.helpdesk.analytics import new_token
from kb.helpdesk.models import SearchRecord, Ticket, User, utcnow
from search.vector_cache import VectorCache, query_variant
from tests.fakes import HashingEncoder
from tests.portal import add_people, make_app
from web.gap_worker import GapWorker

FAILED = ["gaps upkeep: scanner jams", "gaps upkeep: badge reader beeps", "gaps upkeep: monitor flickers"]


@pytest.fixture
def served(portal_index, portal_settings, tmp_path: Path):
    """A portal app whose database recorded failed searches (recent and 40 days old) and a ticket without a
    suggestion, with its own vector cache folder."""
    settings = replace(portal_settings, model_cache_dir=tmp_path / "models")
    app = make_app(settings, portal_index[1])
    add_people(app)
    now = utcnow()
    with app.extensions["kb.db"].begin() as db:
        ann = db.query(User).filter_by(email="ann@acme.example").one()
        db.add_all(SearchRecord(token=new_token(), source="portal", visitor="v:x", query=text, searched="",
                                confident=False, confidence=0.1, created_at=now - timedelta(days=days))
                   for text, days in [(FAILED[0], 1), (FAILED[0], 2), (FAILED[1], 3), (FAILED[2], 40)])
        db.add(Ticket(ref="KB-9", customer_id=ann.id, subject="Projector", description="shows no picture",
                      created_at=now - timedelta(days=1), deflection={"query": "", "shown": [], "search": ""}))
    return app


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """Every text any fake encoder embeds as a query (the serving one and the one `kb gaps` loads)."""
    texts: list[str] = []
    original = HashingEncoder.encode_queries
    monkeypatch.setattr(HashingEncoder, "encode_queries",
                        lambda self, batch: texts.extend(batch) or original(self, batch))
    return texts


def kb_gaps(app, *args: str) -> dict:
    """`kb gaps --json --verbose` on the app's index, database and cache folder: its summary line (stderr)."""
    settings = app.config["KB_SETTINGS"]
    result = CliRunner().invoke(cli, ["gaps", "--json", "--verbose", "--index", str(settings.index_dir),
                                      "--database", settings.database_url, *args], obj={},
                                env={"KB_EMBEDDING_MODEL": "fake-hashing",
                                     "KB_MODEL_CACHE_DIR": str(settings.model_cache_dir)})
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()]  # the groups, as before
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_after_one_upkeep_pass_kb_gaps_embeds_nothing(served, counted):
    done = GapWorker(served).run_pass()
    assert done is not None and done.embedded == done.texts > len(FAILED)  # with the help center's questions
    assert set(FAILED) <= set(counted)
    counted.clear()
    summary = kb_gaps(served)
    assert summary["embedded"] == 0 and summary["cached"] == summary["texts"] > 0 and counted == []
    assert kb_gaps(served, "--since", "2000-01-01")["embedded"] == 0  # the 40-day-old search too
    assert GapWorker(served).run_pass().embedded == 0  # nothing new came


def test_without_the_upkeep_kb_gaps_embeds_its_texts_itself(served, counted):
    summary = kb_gaps(served)
    assert summary["embedded"] == summary["texts"] > 0 and set(FAILED[:2]) <= set(counted)


def test_the_upkeep_keeps_nothing_among_the_services_recent_queries(served):
    service = served.extensions["kb.search"]
    GapWorker(served).run_pass()
    assert not set(FAILED) & set(service._query_vectors)


def test_a_failing_pass_is_logged_and_never_raised(served, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("web.gap_worker.warm_gap_vectors", broken)
    with caplog.at_level(logging.ERROR, logger="web.gap_worker"):
        assert GapWorker(served).run_pass() is None
    assert "vector cache upkeep failed" in caplog.text and "disk on fire" in caplog.text


def test_the_thread_outlives_a_failing_pass(served, monkeypatch, caplog):
    monkeypatch.setattr("web.gap_worker.warm_gap_vectors", lambda *a, **k: 1 / 0)
    worker = GapWorker(served, start_delay=0)
    with caplog.at_level(logging.ERROR, logger="web.gap_worker"):
        worker.start()
        try:
            assert worker.passed.wait(timeout=30)
            assert worker._thread.is_alive() and worker.passes >= 1
        finally:
            worker.close()
    assert "ZeroDivisionError" in caplog.text and not worker._thread.is_alive()


def test_a_stopped_pass_ends_before_its_next_batch(served):
    worker = GapWorker(served)
    worker._stop.set()
    assert worker.run_pass().embedded == 0  # stopped before its first batch


# --- the cache file -------------------------------------------------------------------------------------------------

def rows(texts: list[str]) -> np.ndarray:
    return HashingEncoder().encode_queries(texts)


def test_writers_merge_their_rows_and_readers_never_see_a_broken_file(tmp_path: Path):
    """Two writers (as two serving processes, or one and `kb gaps`) save rows again and again while a reader opens
    the file: every file read is whole and right, and the last file holds both writers' rows."""
    texts = {name: [f"{name} text {n}" for n in range(40)] for name in ("one", "two")}
    expected = {text: row for batch in texts.values() for text, row in zip(batch, rows(batch))}
    start = threading.Barrier(3)
    failures: list[str] = []
    writing = threading.Event()
    reads = []

    def write(name: str) -> None:
        start.wait()
        for n in range(0, 40, 4):  # ten saves each, four new rows each time
            cache = VectorCache(tmp_path, "fake-hashing", 64)
            chunk = texts[name][n:n + 4]
            cache.add(chunk, rows(chunk))
            cache.save()

    def read() -> None:
        start.wait()
        while writing.is_set():
            cache = VectorCache(tmp_path, "fake-hashing", 64)
            every = [t for batch in texts.values() for t in batch]
            absent = set(cache.missing(every))
            present = [t for t in every if t not in absent]
            reads.append(len(present))
            if present and not np.allclose(cache.vectors(present, _never), [expected[t] for t in present]):
                failures.append("a row does not match its text")

    writing.set()
    threads = [threading.Thread(target=write, args=(name,)) for name in texts] + [threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    for thread in threads[:2]:
        thread.join()
    writing.clear()
    threads[2].join()
    assert not failures and reads
    final = VectorCache(tmp_path, "fake-hashing", 64)
    assert final.missing([t for batch in texts.values() for t in batch]) == []  # no writer lost another's rows
    assert not list(tmp_path.glob(".tmp-gap-*"))


def _never(texts):
    raise AssertionError(f"embedded {texts}: every row should have come from the file")


def test_a_file_of_another_variant_or_model_is_not_used(tmp_path: Path, portal_settings):
    cache = VectorCache(tmp_path, "fake-hashing", 64, variant=query_variant(portal_settings))
    cache.add(["a"], rows(["a"]))
    cache.save()
    assert len(VectorCache(tmp_path, "fake-hashing", 64, variant=query_variant(portal_settings))) == 1
    other = replace(portal_settings, query_runtime="torch" if portal_settings.query_runtime == "onnx" else "onnx")
    assert len(VectorCache(tmp_path, "fake-hashing", 64, variant=query_variant(other))) == 0
    assert len(VectorCache(tmp_path, "another-model", 64, variant=query_variant(portal_settings))) == 0
    assert len(VectorCache(tmp_path, "fake-hashing", 32, variant=query_variant(portal_settings))) == 0


def test_a_reader_notices_a_newer_file(tmp_path: Path):
    reader = VectorCache(tmp_path, "m", 64)
    assert not reader.changed_on_disk()
    writer = VectorCache(tmp_path, "m", 64)
    writer.add(["b"], rows(["b"]))
    writer.save()
    assert reader.changed_on_disk() and len(VectorCache(tmp_path, "m", 64)) == 1


def test_kb_gaps_reads_by_default_the_period_the_upkeep_warms():
    from kb import cli_gaps
    from kb.helpdesk import gap_sources

    assert cli_gaps.GAPS_DAYS == gap_sources.GAPS_DAYS


def test_kb_serve_starts_the_upkeep(portal_settings, tmp_path: Path, monkeypatch):
    from web import graceful
    from web.community_worker import CommunityWorker
    from web.mail_worker import MailWorker
    from web.serve import serve_portal

    started, served = [], {}
    monkeypatch.setattr(GapWorker, "start", lambda self: started.append(self) or self)  # no thread outliving the test
    monkeypatch.setattr(MailWorker, "start", lambda self: self)
    monkeypatch.setattr(CommunityWorker, "start", lambda self: self)
    monkeypatch.setattr(graceful, "serve_until_stopped", lambda app, *args, **options: served.update(app=app) or 0)
    serve_portal(replace(portal_settings, model_cache_dir=tmp_path / "models"), report=lambda line: None)
    assert len(started) == 1 and started[0].app is served["app"] and started[0].interval == 3600


CHILD_WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, {root!r})
from search.vector_cache import VectorCache
from tests.fakes import HashingEncoder
texts = [f"child text {{n}}" for n in range({count})]
print("ready", flush=True)
sys.stdin.readline()  # both processes start writing together
for text in texts:
    cache = VectorCache(Path({folder!r}), "fake-hashing", 64)
    cache.add([text], HashingEncoder().encode_queries([text]))
    cache.save()
"""


def test_another_process_writing_at_the_same_time_loses_nothing(tmp_path: Path):
    """As two serving processes: a child process and this one save rows into one file at the same time, a row
    at a time; every file this one reads is whole, and the last holds both processes' rows."""
    import subprocess
    import sys

    count = 100
    root = str(Path(__file__).resolve().parent.parent)
    child = subprocess.Popen([sys.executable, "-c", CHILD_WRITER.format(root=root, folder=str(tmp_path), count=count)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    mine = [f"parent text {n}" for n in range(count)]
    every = mine + [f"child text {k}" for k in range(count)]
    try:
        assert child.stdout.readline().strip() == "ready"
        child.stdin.write("go\n")
        child.stdin.flush()
        for text in mine:
            cache = VectorCache(tmp_path, "fake-hashing", 64)
            absent = set(cache.missing(every))
            present = [t for t in every if t not in absent]
            assert len(present) == len(cache)  # every row read is a known text's
            assert not present or np.allclose(cache.vectors(present, _never), rows(present))
            cache.add([text], rows([text]))
            cache.save()
    finally:
        child.stdin.close()
        assert child.wait(timeout=120) == 0
    final = VectorCache(tmp_path, "fake-hashing", 64)
    assert final.missing(every) == [] and len(final) == 2 * count
    assert np.allclose(final.vectors(every, _never), rows(every))


def test_the_multilingual_query_graphs_version_is_part_of_the_variant(portal_settings, monkeypatch):
    from kb.embedding import e5_onnx
    onnx = replace(portal_settings, query_runtime="onnx")
    before = query_variant(onnx, "multilingual-e5-small")
    english = query_variant(onnx, "all-MiniLM-L6-v2")
    monkeypatch.setattr(e5_onnx, "GRAPH_VERSION", e5_onnx.GRAPH_VERSION + 1)
    assert query_variant(onnx, "multilingual-e5-small") != before  # its vectors are made by another graph
    assert query_variant(onnx, "all-MiniLM-L6-v2") == english  # the English model's are not
