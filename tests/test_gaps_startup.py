"""`kb gaps` starts light: it reads the recorded texts through Core tables of the columns it reads (no ORM model
imported or mapped), and searches the keyword scores without SciPy or Whoosh's index reader (bench/gaps.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from kb.helpdesk.analytics import new_token
from kb.helpdesk.db import open_database
from kb.helpdesk.models import SearchRecord

ROOT = Path(__file__).resolve().parent.parent


def test_the_tables_read_are_the_models_own_columns():
    from kb.helpdesk import analytics, gap_sources
    from kb.helpdesk.models import Base

    assert gap_sources.TICKET_FILED == analytics.TICKET_FILED
    for light in (gap_sources.SEARCHES, gap_sources.EVENTS, gap_sources.TICKETS):
        model = Base.metadata.tables[light.name]
        for column in light.columns:
            assert column.name in model.columns, f"{light.name}.{column.name}"
            assert type(model.columns[column.name].type) is type(column.type), f"{light.name}.{column.name}"


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


def test_kb_gaps_loads_neither_the_orm_nor_scipy_nor_whoosh_indexing(portal_index, tmp_path: Path):
    """What made `kb gaps` slow to start: mapping every ORM model, SciPy, Whoosh's index reader."""
    settings, _ = portal_index
    url = f"sqlite:///{tmp_path / 'kb.sqlite3'}"
    engine, sessions = open_database(url)
    with sessions.begin() as db:
        db.add_all([SearchRecord(token=new_token(), source="portal", visitor="v:x", query=query, confident=False,
                                 confidence=0.1, created_at=datetime(2026, 3, 2))
                    for query in ("scanner jams", "scanner jams", "badge reader beeps")])
    engine.dispose()
    args = ["gaps", "--since", "2026-03-01", "--json", "--index", str(settings.index_dir), "--database", url]
    unneeded = ["sqlalchemy.orm", "kb.helpdesk.models", "scipy", "whoosh.index", "whoosh.searching"]
    done = subprocess.run([sys.executable, "-c", GAPS_RUN.format(root=str(ROOT), args=args, unneeded=unneeded)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env={**os.environ, "KB_MODEL_CACHE_DIR": str(tmp_path / "models")})
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    groups = [json.loads(line) for line in found["output"].splitlines()]
    assert found["code"] == 0 and sum(g["size"] for g in groups) == 3
    assert found["loaded"] == []
