"""Preview: `kb serve --watch` rebuilds on article changes and the portal serves the new build without a restart."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.watch import Watcher, snapshot, start_watching
from kb.embedding import encoders as encoder_module
from kb.config import Settings
from tests.concurrency import wait_for
from tests.fakes import HashingEncoder
from web import create_app


def titles(settings: Settings) -> dict[str, str]:
    articles = json.loads((settings.index_dir / "articles.json").read_text(encoding="utf-8"))
    return {i: a["title"] for i, a in articles.items()}


def retitle(path: Path, title: str) -> None:
    text = path.read_text(encoding="utf-8")
    old = text.split("title:", 1)[1].split("\n", 1)[0]
    path.write_text(text.replace("title:" + old, "title: " + title, 1), encoding="utf-8")


def test_snapshot_sees_edits_additions_and_removals(center: Path):
    before = snapshot(center)
    retitle(center / "printers" / "printer-offline.md", "Printer offline (edited)")
    (center / "printers" / "new.md").write_text("x", encoding="utf-8")
    (center / "accounts" / "reset-password.md").unlink()
    (center / ".git").mkdir()
    (center / ".git" / "index").write_text("ignored", encoding="utf-8")
    after = snapshot(center)
    assert after != before and "printers/new.md" in after and "accounts/reset-password.md" not in after
    assert not any(k.startswith(".git") for k in after)


def test_watcher_rebuilds_on_change_and_keeps_the_index_on_errors(settings: Settings, encoder, center: Path):
    build_index(settings, encoder, progress=False)
    messages: list[str] = []
    watcher = Watcher(settings, encoder, interval=0.05, report=messages.append).start()
    try:
        retitle(center / "printers" / "printer-offline.md", "Printer is offline (watched)")
        assert wait_for(lambda: titles(settings)["printer-offline"] == "Printer is offline (watched)")
        (center / "printers" / "broken.md").write_text("---\ntitle: Broken\ncategory: nowhere\n---\nBody\n",
                                                       encoding="utf-8")
        assert wait_for(lambda: watcher.failures == 1)
        assert "printers/broken.md:3" in messages[-1] and "still serving the previous index" in messages[-1]
        assert "broken" not in titles(settings)
    finally:
        watcher.stop()
    assert watcher.builds == 1


def test_drafts_only_in_a_preview_build(settings: Settings, encoder):
    build_index(settings, encoder, progress=False)
    assert "new-printers" not in titles(settings)
    preview = settings.replace(index_dir=settings.index_dir.with_name("index-preview"))
    build_index(preview, encoder, progress=False, include_drafts=True)
    assert "new-printers" in titles(preview) and "new-printers" not in titles(settings)


def test_start_watching_drafts_builds_a_separate_preview_index(settings: Settings, center: Path, fake_model):
    messages: list[str] = []
    watcher = start_watching(settings, include_drafts=True, report=messages.append)
    try:
        preview = watcher.settings
        assert preview.index_dir == settings.index_dir.with_name("index-preview")
        assert preview.reload_interval == 0.5 and preview.articles_dir == settings.articles_dir
        assert "new-printers" in titles(preview)  # the draft is shown in the preview...
        assert not settings.index_dir.exists()  # ...and the published index is never built
        assert messages == [f"watching {center} (drafts shown)"]
    finally:
        watcher.stop()


def test_start_watching_without_drafts_serves_the_index_folder(settings: Settings, center: Path, fake_model):
    messages: list[str] = []
    watcher = start_watching(settings.replace(reload_interval=0.2), report=messages.append)
    try:
        assert watcher.settings.index_dir == settings.index_dir and watcher.settings.reload_interval == 0.2
        assert "new-printers" not in titles(watcher.settings)
        assert messages == [f"watching {center} (drafts hidden)"]
    finally:
        watcher.stop()


@pytest.fixture
def fake_model(monkeypatch):
    monkeypatch.setitem(encoder_module.ENCODERS, "fake-hashing",
                        lambda threads, batch, precision, **options: HashingEncoder())


def test_open_page_follows_a_rebuild_without_a_restart(settings: Settings, encoder, center: Path, tmp_path: Path,
                                                       fake_model):
    build_index(settings, encoder, progress=False)
    app = create_app(settings.replace(database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", reload_interval=0.0,
                                      secret_key="k" * 32), preview=True)
    client = app.test_client()
    page = client.get("/articles/printer-offline").get_data(as_text=True)
    first = client.get("/_index").get_json()["build"]
    assert f'data-build="{first}"' in page and "preview.js" in page
    retitle(center / "printers" / "printer-offline.md", "Printer offline, rebuilt")
    build_index(settings, encoder, progress=False)
    assert wait_for(lambda: client.get("/_index").get_json()["build"] != first)
    assert "Printer offline, rebuilt" in client.get("/articles/printer-offline").get_data(as_text=True)


def test_published_portal_has_no_preview_script(settings: Settings, encoder, tmp_path: Path, fake_model):
    build_index(settings, encoder, progress=False)
    app = create_app(settings.replace(database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}",
                                      secret_key="k" * 32))
    assert "preview.js" not in app.test_client().get("/").get_data(as_text=True)


def test_drafts_need_watch():
    from click.testing import CliRunner

    from kb.cli import cli
    result = CliRunner().invoke(cli, ["serve", "--drafts"])
    assert result.exit_code == 2 and "--drafts is for previews" in result.output


def test_serve_watch_drafts_serves_the_preview_build(settings: Settings, center: Path, tmp_path: Path,
                                                     monkeypatch, fake_model):
    from click.testing import CliRunner

    from kb.cli import cli
    from web import graceful, serve
    served = {}
    monkeypatch.setattr(Watcher, "start", lambda self: self)  # no polling thread outliving the test
    monkeypatch.setattr(serve, "start_workers", lambda app: [])
    monkeypatch.setattr(graceful, "serve_until_stopped",
                        lambda app, host, port, threads, grace, report, on_stop:
                        served.update(app=app, host=host, port=port, threads=threads) or 0)
    env = {"KB_EMBEDDING_MODEL": "fake-hashing", "KB_INDEX_DIR": str(settings.index_dir),
           "KB_DATABASE_URL": f"sqlite:///{tmp_path / 'kb.sqlite3'}", "KB_SECRET_KEY": "k" * 32, "KB_CONFIG": ""}
    result = CliRunner().invoke(cli, ["serve", "--watch", "--drafts", "--articles", str(center), "--port", "8123"],
                                obj={}, env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[-2:] == ["serving the help portal on http://127.0.0.1:8123/", "stopped"]
    assert f"watching {center} (drafts shown)" in lines[:-2]
    assert served["host"] == "127.0.0.1" and served["port"] == 8123 and served["threads"] == 8
    client = served["app"].test_client()
    assert "preview.js" in client.get("/articles/new-printers").get_data(as_text=True)  # a draft, in preview
    assert not settings.index_dir.exists()
