"""/healthz and /readyz: what a load balancer reads, never a 500, never a cookie or a cached answer."""
from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from kb.helpdesk.analytics import EventLog
from search.service import SearchService
from tests.fakes import HashingEncoder
from tests.portal import make_app, sign_in


def test_healthz_says_ok_without_a_cookie_or_a_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_readyz_is_ready_with_the_index_the_model_and_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ready", "checks": {"index": "ok", "model": "ok", "database": "ok"}}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_probes_leave_a_signed_in_session_alone(ann):
    """A browser's cookie sent along is neither read into a session nor renewed."""
    for path in ("/healthz", "/readyz"):
        assert "Set-Cookie" not in ann.get(path).headers


def test_probes_record_nothing_for_insights(app, monkeypatch):
    recorded = []
    monkeypatch.setattr(EventLog, "event", lambda self, *args, **kwargs: recorded.append(args))
    monkeypatch.setattr(EventLog, "search", lambda self, *args, **kwargs: recorded.append(args))
    client = app.test_client()
    for path in ("/healthz", "/readyz"):
        assert client.get(path).status_code == 200
    assert recorded == []
    assert client.get("/search?q=printer").status_code == 200
    assert recorded  # a search is recorded: the probes' silence is not the log's


@pytest.mark.sqlite_only("removes the database file; tests/test_faults_database.py stops a PostgreSQL server")
def test_readyz_names_a_database_that_does_not_answer(portal_index, portal_settings, tmp_path: Path):
    folder = tmp_path / "db"
    folder.mkdir()
    shutil.copyfile(Path(portal_settings.database_url.removeprefix("sqlite:///")), folder / "kb.sqlite3")
    app = make_app(replace(portal_settings, database_url=f"sqlite:///{folder / 'kb.sqlite3'}"), portal_index[1])
    client = app.test_client()
    assert client.get("/readyz").status_code == 200
    shutil.rmtree(folder)  # the database file and its folder are gone: a new connection cannot open it
    app.extensions["kb.engine"].dispose()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "not ready" and body["not_ready"] == ["database"]
    assert body["checks"]["index"] == "ok" and body["checks"]["database"] == "OperationalError"
    assert str(folder) not in response.get_data(as_text=True)
    assert client.get("/healthz").status_code == 200  # alive all the same: restarting would not help


class BrokenModel(HashingEncoder):
    def encode_queries(self, texts):
        raise RuntimeError("the model's runtime failed")


def test_readyz_names_a_model_that_fails(portal_index, portal_settings):
    service = SearchService.load(portal_index[0].index_dir, portal_index[0], BrokenModel(), warm=False)
    response = make_app(portal_settings, service).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["not_ready"] == ["model"]
    assert response.get_json()["checks"]["model"] == "RuntimeError"
    assert "Traceback" not in response.get_data(as_text=True)


def test_a_signed_in_page_still_sets_its_cookie(client):
    """The probes' silence is theirs: signing in still sends the session cookie (the check above could not pass
    by cookies never being sent)."""
    cookies = sign_in(client, "ann@acme.example").headers.getlist("Set-Cookie")
    assert any(cookie.startswith("kb_session=") for cookie in cookies)
