"""Request ids and the JSON request log: one line per request, and nothing in it a request carries."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kb.config import load_settings
from kb.errors import ConfigError
from tests.portal import PASSWORD, add_people, make_app, post, sign_in


class BufferedClient(FlaskClient):
    """Reads each response whole and closes it, as a server does: a request's line is written at that close."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def logged(portal_index, portal_settings, tmp_path: Path):
    """The portal writing its request log to a file: (test client, the log's path)."""
    path = tmp_path / "logs" / "requests.log"
    app = make_app(replace(portal_settings, request_log=str(path)), portal_index[1])
    add_people(app)
    app.test_client_class = BufferedClient
    return app.test_client(), path


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_one_line_per_request_with_its_id_status_and_duration(logged):
    client, path = logged
    first = client.get("/healthz")
    missing = client.get("/no-such-page")
    logged_lines = lines(path)
    assert [(line["method"], line["path"], line["status"]) for line in logged_lines] == \
        [("GET", "/healthz", 200), ("GET", "/no-such-page", 404)]
    assert [line["request_id"] for line in logged_lines] == [first.headers["X-Request-ID"],
                                                             missing.headers["X-Request-ID"]]
    assert set(logged_lines[0]) == {"time", "request_id", "method", "path", "status", "duration_ms"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", logged_lines[0]["time"])
    assert all(line["duration_ms"] >= 0 for line in logged_lines)


def test_a_well_formed_incoming_id_is_kept_and_anything_else_replaced(logged):
    client, path = logged
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42:x_1"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.42:x_1"
    for bad in ("a" * 65, "two words", "<script>", "id\\u2028", ""):
        response = client.get("/healthz", headers={"X-Request-ID": bad})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"]), bad
    ids = [line["request_id"] for line in lines(path)]
    assert ids[0] == "lb-7f3a.42:x_1" and len(set(ids)) == len(ids)


def test_no_query_string_password_cookie_token_or_ticket_text_is_written(logged):
    client, path = logged
    client.get("/search?q=my+secret+printer")
    assert sign_in(client, "ann@acme.example").status_code == 302
    post(client, "/tickets/new", {"subject": "Printer offline", "description": "confidential: the vault code is 4711",
                                  "category": "printers"})
    client.get("/reset-password/Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA")
    client.get("/unsubscribe/c2VjcmV0LXVuc3Vic2NyaWJlLXRva2Vu")
    text = path.read_text(encoding="utf-8")
    cookie = client.get_cookie("kb_session").value
    for secret in ("secret", PASSWORD, "vault", "4711", "Zm9vYmFyYmF6", "c2VjcmV0", cookie, "ann@acme"):
        assert secret not in text, secret
    paths = [line["path"] for line in lines(path)]
    assert "/search" in paths and "/tickets/new" in paths
    assert "/reset-password/<token>" in paths and "/unsubscribe/<token>" in paths


def test_off_writes_nothing_and_still_answers_with_an_id(portal_index, portal_settings, tmp_path: Path, capsys):
    app = make_app(portal_settings, portal_index[1])
    assert portal_settings.request_log == "off"
    response = app.test_client().get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
    assert capsys.readouterr().err == ""


def test_stderr_gets_the_lines(portal_index, portal_settings, capsys):
    app = make_app(replace(portal_settings, request_log="stderr"), portal_index[1])
    response = app.test_client().get("/readyz", buffered=True)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["path"] == "/readyz" and line["request_id"] == response.headers["X-Request-ID"]


def test_a_folder_is_not_a_request_log(tmp_path: Path):
    with pytest.raises(ConfigError, match="request_log.*must name a file"):
        load_settings(environ={"KB_REQUEST_LOG": str(tmp_path)})
    assert load_settings(environ={"KB_REQUEST_LOG": str(tmp_path / "requests.log")}).request_log.endswith(".log")
