"""`kb gaps` starts light: it reads an SQLite database with sqlite3 alone (any other through Core tables of the
columns it reads: no ORM model imported or mapped), and searches the keyword scores without SciPy or Whoosh's index
reader (bench/gaps.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from kb.errors import DatabaseError
from kb.helpdesk.accounts import add_organisation, add_user
from kb.helpdesk.analytics import CLICK, TICKET_FILED, new_token
from kb.helpdesk.db import open_database
from kb.helpdesk.gap_records import SQLITE_FAILED, read_gap_texts, sqlite_file
from kb.helpdesk.gap_sources import gap_texts
from kb.helpdesk.models import AnalyticsEvent, SearchRecord, Ticket

ROOT = Path(__file__).resolve().parent.parent
D1, D2, D3 = datetime(2026, 3, 2, 9), datetime(2026, 3, 3, 15, 30, 0, 250), datetime(2026, 3, 10, 8)


def search(query: str, when: datetime, confident: bool = False, searched: str = "", token: str = "") -> SearchRecord:
    return SearchRecord(token=token or new_token(), source="portal", visitor="v:x", query=query, searched=searched,
                        confident=confident, confidence=0.9 if confident else 0.1, created_at=when)


@pytest.fixture
def recorded(tmp_path: Path) -> str:
    """A database of failed, answered and ticket-ending searches and of tickets with and without suggestions."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    engine, sessions = open_database(url)
    ticketed, clicked, kept = new_token(), new_token(), new_token()
    with sessions.begin() as db:
        add_organisation(db, "Acme")
        ann = add_user(db, "ann@acme.example", "password-ann", "Acme", "member")
        db.flush()
        db.add_all([search("Scanner  jams", D1), search("scanner jams", D2), search("SCANNER JAMS ", D2),
                    search("scanner jams", D3), search("сканер зажевал бумагу", D2),
                    search("ghbynth", D1, searched="принтер"),
                    search("printer offline", D2, confident=True), search("reset password", D2, True, token=ticketed),
                    search("vpn drops", D2, True, token=clicked), search("badge reader", D3, token=kept),
                    AnalyticsEvent(kind=TICKET_FILED, search_token=ticketed, ticket_ref="KB-1", created_at=D2),
                    AnalyticsEvent(kind=CLICK, search_token=clicked, article_id="vpn", position=1, created_at=D2)])
        none = {"query": "", "confidence": 0.1, "shown": [], "search": ""}
        db.add_all([Ticket(ref=f"KB-{n}", customer_id=ann.id, subject=subject, description=text, created_at=when,
                           deflection=deflection) for n, (subject, text, when, deflection) in enumerate([
                               ("s", "d", D2, {"query": "reset password", "shown": [], "search": ticketed}),
                               ("Badge reader", "  beeps twice ", D2, none),
                               ("x", "y", D3, {"query": "wifi is slow", "shown": [], "search": new_token()}),
                               ("x", "y", D3, {"query": "badge", "shown": [], "search": kept}),  # its search counts
                               ("Printer", "offline", D2, {"query": "p", "shown": [{"id": "p"}], "search": ""}),
                               ("old", "one", datetime(2025, 1, 1), none), ("Wifi", "", D1, {})], start=1)])
    engine.dispose()
    return url


def test_the_tables_read_are_the_models_own_columns():
    from kb.helpdesk import analytics, gap_sources
    from kb.helpdesk.models import Base

    assert gap_sources.TICKET_FILED == analytics.TICKET_FILED
    for light in (gap_sources.SEARCHES, gap_sources.EVENTS, gap_sources.TICKETS):
        model = Base.metadata.tables[light.name]
        for column in light.columns:
            assert column.name in model.columns, f"{light.name}.{column.name}"
            assert type(model.columns[column.name].type) is type(column.type), f"{light.name}.{column.name}"


def test_an_sqlite_file_is_read_as_sqlalchemy_reads_it(recorded: str):
    engine, _ = open_database(recorded, migrate=False)
    periods = [(None, None), (D1, None), (D2, None), (D1, D2), (datetime(2026, 3, 3, 15, 30), D3), (D3, None),
               (datetime(2026, 4, 1), None)]
    try:
        with engine.connect() as db:
            for since, until in periods:
                for searches, tickets in ((300, 100), (2, 1), (0, 0)):
                    expected = gap_texts(db, since, until, searches, tickets)
                    assert read_gap_texts(recorded, since, until, searches, tickets) == expected, (since, until)
            assert {t.text for t in gap_texts(db, D1)} >= {"scanner jams", "reset password", "wifi is slow", "Wifi"}
            # an SQLite URL with options is read through SQLAlchemy, as any other database
            assert read_gap_texts(f"{recorded}?timeout=5", D1, D3) == gap_texts(db, D1, D3)
    finally:
        engine.dispose()


def test_the_failed_searches_are_counted_from_their_index(recorded: str):
    import sqlite3

    with sqlite3.connect(str(sqlite_file(recorded))) as connection:
        plan = " ".join(str(row) for row in connection.execute(
            "EXPLAIN QUERY PLAN " + SQLITE_FAILED.format(period=" AND created_at >= ?"), ["2026-03-01"]))
    assert "ix_searches_failed_text" in plan and "TEMP B-TREE" not in plan


def test_only_plain_sqlite_urls_are_read_without_sqlalchemy(tmp_path: Path):
    assert sqlite_file("sqlite:///var/kb.sqlite3") == Path("var/kb.sqlite3")
    assert sqlite_file("sqlite:////srv/kb/kb.sqlite3") == Path("/srv/kb/kb.sqlite3")
    for other in ("sqlite://", "sqlite:///:memory:", "sqlite:///file:kb?mode=ro&uri=true", "sqlite:///kb.db?timeout=5",
                  "postgresql+psycopg://kb:pw@db/kb", "sqlite+aiosqlite:///kb.sqlite3"):
        assert sqlite_file(other) is None, other
    missing = tmp_path / "none.sqlite3"
    with pytest.raises(DatabaseError, match="cannot read the recorded searches and tickets"):
        read_gap_texts(f"sqlite:///{missing}", None)
    assert not missing.exists()  # a reader creates no database


# Run in a fresh interpreter (this one has imported everything): what `kb gaps` loads besides what it needs.
GAPS_RUN = """
import json, sys
sys.path.insert(0, {root!r})
import tests.fakes  # registers the fake encoder
from click.testing import CliRunner
from kb.cli import cli
result = CliRunner().invoke(cli, {args!r}, obj={{}}, env={{"KB_EMBEDDING_MODEL": "fake-hashing"}})
print(json.dumps({{"code": result.exit_code, "output": result.output,
                  "loaded": sorted(m for m in {unneeded!r} if m in sys.modules)}}))
"""


def test_kb_gaps_on_sqlite_loads_neither_sqlalchemy_nor_scipy_nor_whoosh_indexing(portal_index, tmp_path: Path):
    """What made `kb gaps` slow to start: SQLAlchemy and mapping every ORM model, SciPy, Whoosh's index reader
    (and numpy.ma, which np.unique imports)."""
    settings, _ = portal_index
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    engine, sessions = open_database(url)
    with sessions.begin() as db:
        db.add_all([SearchRecord(token=new_token(), source="portal", visitor="v:x", query=query, confident=False,
                                 confidence=0.1, created_at=datetime(2026, 3, 2))
                    for query in ("scanner jams", "scanner jams", "badge reader beeps")])
    engine.dispose()
    args = ["gaps", "--since", "2026-03-01", "--json", "--index", str(settings.index_dir), "--database", url]
    unneeded = ["sqlalchemy", "kb.helpdesk.models", "scipy", "whoosh.index", "whoosh.searching", "numpy.ma"]
    done = subprocess.run([sys.executable, "-c", GAPS_RUN.format(root=str(ROOT), args=args, unneeded=unneeded)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "KB_MODEL_CACHE_DIR": str(tmp_path / "models")})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    groups = [json.loads(line) for line in found["output"].splitlines()]
    assert found["code"] == 0 and sum(g["size"] for g in groups) == 3
    assert found["loaded"] == []


def test_the_threshold_is_the_one_np_unique_candidates_give():
    import numpy as np

    from search.gaps import derive_threshold

    def reference(vectors, labels):  # derive_threshold as written with np.unique
        sims = vectors @ vectors.T
        same = np.array([[a == b for b in labels] for a in labels], dtype=bool)
        positives = sims[same & np.triu(np.ones_like(same), k=1)]
        negatives = np.where(same, -np.inf, sims).max(axis=1)
        negatives = negatives[np.isfinite(negatives)]
        candidates = np.unique(np.concatenate([positives, negatives]))
        missed = np.searchsorted(np.sort(positives), candidates, side="left") / len(positives)
        merged = 1.0 - np.searchsorted(np.sort(negatives), candidates, side="left") / len(negatives)
        return float(candidates[int(np.argmin(np.abs(missed - merged)))])

    rng = np.random.default_rng(11)
    for size in (6, 9, 40):  # every label on two rows or more
        vectors = rng.normal(size=(size, 8)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors[1] = vectors[0]  # equal similarities: candidates that np.unique merges
        labels = [f"a{n % 3}" for n in range(size)]
        assert derive_threshold(vectors, labels) == reference(vectors, labels)
