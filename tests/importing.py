"""Helpers for the `kb import` tests: a fixture site imported with the real command, checked with `kb check`,
built with the real English model (the fake encoder for tests of one part), and the portal over it."""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from click.testing import CliRunner

from indexer.build import build_index
from kb.cli import cli
from kb.config import Settings
from kb.embedding.encoders import Encoder, load_encoder
from search.service import SearchService
from tests.fakes import HashingEncoder
from tests.portal import make_app

FIXTURES = Path(__file__).parent / "import_fixtures"


def kb(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={}, catch_exceptions=False)
    return result.exit_code, result.output


def import_site(fmt: str, articles: Path, *extra: str) -> dict:
    """`kb import FORMAT <fixture> --articles ARTICLES --json`, its summary."""
    code, output = kb("import", fmt, str(FIXTURES / fmt), "--articles", str(articles), "--json", *extra)
    assert code == 0, output
    return json.loads(output)


REAL_MODEL = "all-MiniLM-L6-v2"


def real_encoder() -> Encoder:
    """The English model `kb build` uses by default, its passages and queries embedded by torch (loaded once per
    test session by the `minilm` fixture)."""
    return load_encoder(REAL_MODEL, 1, 32, "fp32", "torch")


def imported_portal(fmt: str, tmp_path: Path, migrated_sqlite: Path, encoder: Encoder):
    """(test client, summary) of the portal over the fixture site of `fmt`, imported, checked and built with
    `encoder` (the real model: `minilm`)."""
    articles = tmp_path / "articles"
    summary = import_site(fmt, articles)
    code, output = kb("check", "--articles", str(articles))
    assert code == 0, output
    return portal_over(articles, tmp_path, migrated_sqlite, encoder, REAL_MODEL).test_client(), summary


def portal_over(articles: Path, tmp_path: Path, migrated_sqlite: Path, encoder: Encoder | None = None,
                model: str = "fake-hashing"):
    """The portal app over `articles`, built with `encoder` (`model`; the fake encoder without), with a database of
    its own in `tmp_path`."""
    settings = Settings(articles_dir=articles, index_dir=tmp_path / "index", embedding_model=model)
    encoder = encoder or HashingEncoder()
    report = build_index(settings, encoder)
    assert report.embedded > 0
    shutil.copyfile(migrated_sqlite, tmp_path / "kb.sqlite3")
    settings = replace(settings, database_url=f"sqlite:///{tmp_path / 'kb.sqlite3'}", secret_key="k" * 32,
                       secret_key_file=tmp_path / "secret_key", attachments_dir=tmp_path / "attachments")
    return make_app(settings, SearchService.load(settings.index_dir, settings, encoder))
