"""Preview in real Chromium: an article edited on disk shows up in the open page by itself (kb serve --watch)."""
from __future__ import annotations

from pathlib import Path

import pytest

from indexer.build import build_index
from indexer.watch import Watcher
from kb.embedding import encoders as encoder_module
from kb.config import Settings
from tests.fakes import HashingEncoder
from tests.chromium import ARGS, ARTIFACTS, CHROMIUM
from tests.portal import serving
from web import create_app

pytestmark = pytest.mark.slow


def test_open_article_page_shows_the_edit_without_a_reload(settings: Settings, center: Path, tmp_path: Path,
                                                           monkeypatch):
    from playwright.sync_api import expect, sync_playwright

    monkeypatch.setitem(encoder_module.ENCODERS, "fake-hashing",
                        lambda threads, batch, precision, **options: HashingEncoder())
    encoder = HashingEncoder()
    preview = settings.replace(database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", secret_key="k" * 32,
                               reload_interval=0.2)
    build_index(preview, encoder, progress=False)
    watcher = Watcher(preview, encoder, interval=0.2, report=lambda m: None).start()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        with serving(create_app(preview, preview=True)) as port, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/articles/printer-offline")
            expect(page.get_by_role("heading", level=1)).to_have_text("Printer shows Offline")
            article = center / "printers" / "printer-offline.md"
            article.write_text(article.read_text(encoding="utf-8").replace(
                "title: Printer shows Offline", "title: Printer shows Offline after the update"), encoding="utf-8")
            expect(page.get_by_role("heading", level=1)).to_have_text("Printer shows Offline after the update",
                                                                       timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "preview-after-edit.png"), full_page=True)
            browser.close()
    finally:
        watcher.stop()
    assert watcher.builds >= 1
