"""Golden queries: validated by `kb check`, run by `kb check --quality` against a temporary index."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.embedding import encoders as encoder_module
from kb.check import load_help_center
from indexer.build import build_index
from kb.cli import cli
from kb.config import Settings
from kb.golden import GoldenQuery
from search.golden import GoldenResult, check_quality
from tests.fakes import HashingEncoder

GOLDEN = """\
- query: my printer says offline
  expect: printer-offline
- query: forgot password
  expect: reset-password
"""


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setitem(encoder_module.ENCODERS, "fake-hashing",
                        lambda threads, batch, precision, **options: HashingEncoder())
    monkeypatch.setenv("KB_EMBEDDING_MODEL", "fake-hashing")
    monkeypatch.delenv("KB_CONFIG", raising=False)


def quality(center: Path, tmp_path: Path):
    return CliRunner().invoke(cli, ["check", "--quality", "--articles", str(center)], obj={},
                              env={"KB_INDEX_DIR": str(tmp_path / "var" / "index")}, catch_exceptions=False)


def test_check_validates_golden_queries_with_lines(center: Path):
    (center / "queries.yml").write_text(GOLDEN + """\
- query: draft printers
  expect: new-printers
- query: agent procedure
  expect: agent-only
- query: nothing
  expect: no-such-article
- query: ""
  expect: none
- query: weather
""", encoding="utf-8")
    center_ = load_help_center(center, Settings())
    found = {(p.line, p.message.split("'")[1] if "'" in p.message else p.message) for p in center_.errors}
    assert (5, "new-printers") in found and (7, "agent-only") in found and (9, "no-such-article") in found
    assert any(p.line == 11 and "query" in p.message for p in center_.errors)
    assert any(p.line == 13 and "expect" in p.message for p in center_.errors)
    assert all(p.path.endswith("queries.yml") for p in center_.errors)
    assert [g.expect for g in center_.golden] == ["printer-offline", "reset-password"]


MORE = {
    "printers/printer-jam.md": "Paper jam in the printer",
    "printers/printer-driver.md": "Install the printer driver",
    "printers/scanner-offline.md": "Scanner says offline",
    "accounts/mfa-phone.md": "Move sign-in codes to a new phone",
}


def test_quality_passes_then_names_the_query_an_edit_broke(center: Path, tmp_path: Path):
    for rel, title in MORE.items():
        (center / rel).write_text(f"---\ntitle: {title}\ncategory: {rel.split('/')[0]}\n---\n{title}: what to do.\n",
                                  encoding="utf-8")
    (center / "queries.yml").write_text(GOLDEN, encoding="utf-8")
    passed = quality(center, tmp_path)
    assert passed.exit_code == 0, passed.output
    assert "2 golden queries: 2 passed, 0 failed" in passed.output
    printer = center / "printers" / "printer-offline.md"
    printer.write_text("---\ntitle: Toner cartridges\ncategory: printers\nquestions: [replace toner]\n---\n"
                       "Open the front cover and swap the cartridge.\n", encoding="utf-8")
    broken = quality(center, tmp_path)
    assert broken.exit_code == 1
    assert "queries.yml:1: 'my printer says offline' expects printer-offline, which" in broken.output
    assert "1 failed" in broken.output
    assert not (tmp_path / "var" / "index").exists()  # the published index is never touched


def test_quality_without_golden_queries_says_so(center: Path, tmp_path: Path):
    result = quality(center, tmp_path)
    assert result.exit_code == 0 and "no golden queries" in result.output


def test_golden_results_describe_failures():
    miss = GoldenResult(GoldenQuery("vpn down", "vpn-error", "articles/queries.yml", 4), 5, "wifi", 0.9, True)
    assert not miss.passed and miss.describe() == \
        "articles/queries.yml:4: 'vpn down' expects vpn-error, which now ranks 5 (first: wifi)"
    lost = GoldenResult(GoldenQuery("vpn down", "vpn-error", "q.yml", 4), None, "wifi", 0.9, True)
    assert "is not in the first 20" in lost.describe()
    offered = GoldenResult(GoldenQuery("weather", None, "q.yml", 9), None, "wifi", 0.8, True)
    assert not offered.passed and "should find nothing with confidence, but wifi is offered" in offered.describe()
    assert GoldenResult(GoldenQuery("weather", None, "q.yml", 9), None, "wifi", 0.2, False).passed


def test_a_found_article_fails_when_customers_would_not_be_shown_it():
    found = GoldenResult(GoldenQuery("vpn down", "vpn-error", "q.yml", 4), 1, "vpn-error", 0.41, False)
    assert not found.passed
    assert found.describe() == ("q.yml:4: 'vpn down' finds vpn-error at rank 1, but not confidently "
                                "(confidence 0.41): customers are not shown it")
    assert GoldenResult(GoldenQuery("vpn down", "vpn-error", "q.yml", 4), 3, "wifi", 0.6, True).passed
    # a confident answer that offers nothing (an empty result list) offers nothing wrong
    assert GoldenResult(GoldenQuery("weather", None, "q.yml", 9), None, None, 0.7, True).passed


def test_check_quality_builds_with_the_given_function_into_a_throwaway_index(settings: Settings, center: Path):
    (center / "queries.yml").write_text(GOLDEN + "- query: weather tomorrow\n  expect: none\n", encoding="utf-8")
    golden = load_help_center(center, settings).golden
    builds: list[tuple[Path, dict]] = []

    def build(scratch: Settings, **options):
        builds.append((scratch.index_dir, options))
        return build_index(scratch, HashingEncoder(), **options)

    report = check_quality(settings, golden, build)
    (scratch, options), = builds
    assert options == {"progress": False, "reuse_from": settings.index_dir}
    assert scratch != settings.index_dir and not scratch.exists()  # deleted afterwards
    assert not settings.index_dir.exists()  # the published index is never touched
    assert [r.golden.query for r in report.results] == ["my printer says offline", "forgot password",
                                                        "weather tomorrow"]
    assert report.results[0].rank == 1 and report.results[1].rank == 1
    assert report.passed == (report.failures() == [])
    assert report.summary().startswith("3 golden queries: ")


def test_check_quality_without_golden_queries_builds_nothing(settings: Settings):
    report = check_quality(settings, [], lambda *args, **kwargs: pytest.fail("built an index"))
    assert report.passed and report.results == [] and report.failures() == []
    assert report.summary() == f"no golden queries ({settings.articles_dir}/queries.yml): nothing to check"
