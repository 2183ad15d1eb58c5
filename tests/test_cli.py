"""The `kb` command line, called through click's CliRunner with the fake encoder registered."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb.embedding import encoders as encoder_module
from kb.cli import cli
from tests.fakes import HashingEncoder


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    monkeypatch.setitem(encoder_module.ENCODERS, "fake-hashing", lambda threads, batch, precision, **options: HashingEncoder())
    monkeypatch.setenv("KB_EMBEDDING_MODEL", "fake-hashing")
    monkeypatch.delenv("KB_CONFIG", raising=False)


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(cli, list(args), obj={}, input=input, catch_exceptions=False)


def test_help_lists_commands():
    result = run("--help")
    assert result.exit_code == 0
    for command in ("check", "build", "search", "serve"):
        assert command in result.output


def test_check_clean_center_exits_0(center: Path):
    result = run("check", "--articles", str(center))
    assert result.exit_code == 0
    assert "5 article(s) checked" in result.output and "0 error(s)" in result.output


def test_check_reports_every_problem_as_path_line_message(center: Path):
    (center / "bad.md").write_text("---\ntitle: X\ncategory: nope\n---\n", encoding="utf-8")
    (center / "worse.md").write_bytes(b"---\ntitle: \xff\n---\n")
    result = run("check", "--articles", str(center))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert f"{center}/bad.md:3: category 'nope' is not declared in categories.yml (declared: accounts, printers, vpn)" in lines
    assert f"{center}/bad.md:4: article body is empty: write the answer below the front matter" in lines
    assert any(line.startswith(f"{center}/worse.md:2: not valid UTF-8") for line in lines)
    assert "3 error(s)" in result.stderr
    assert "Traceback" not in result.output


def test_check_strict_fails_on_unknown_keys(center: Path):
    (center / "extra.md").write_text("---\ntitle: X\ncategory: vpn\nowner: me\n---\nBody\n", encoding="utf-8")
    assert run("check", "--articles", str(center)).exit_code == 0
    strict = run("check", "--articles", str(center), "--strict")
    assert strict.exit_code == 1
    assert f"{center}/extra.md:4: warning: unknown field 'owner'" in strict.stdout


def test_check_missing_folder(tmp_path: Path):
    result = run("check", "--articles", str(tmp_path / "nope"))
    assert result.exit_code == 1 and "articles folder not found" in result.output


def test_check_writes_nothing(center: Path, tmp_path: Path):
    before = sorted(p for p in tmp_path.rglob("*"))
    run("check", "--articles", str(center))
    assert sorted(p for p in tmp_path.rglob("*")) == before


def test_build_then_search_json_and_batch(center: Path, tmp_path: Path):
    index = tmp_path / "index"
    built = run("build", "--articles", str(center), "--index", str(index))
    assert built.exit_code == 0, built.output
    assert "built 4 article(s)" in built.output and "1 draft(s) skipped" in built.output
    again = run("build", "--articles", str(center), "--index", str(index))
    assert "(0 embedded," in again.output

    found = run("search", "printer offline", "--index", str(index), "--json", "-k", "1")
    data = json.loads(found.output)
    assert data["query"] == "printer offline" and len(data["results"]) == 1
    assert data["results"][0]["id"] == "printer-offline"
    assert set(data["results"][0]) >= {"id", "title", "category", "score"}

    table = run("search", "printer offline", "--index", str(index))
    assert table.exit_code == 0 and "printer-offline" in table.output.splitlines()[1]

    queries = tmp_path / "queries.txt"
    queries.write_text("printer offline\n\nforgot password\nвпн не работает\n", encoding="utf-8")
    batch = run("search", "--batch", str(queries), "--index", str(index), "--json")
    rows = [json.loads(line) for line in batch.output.splitlines()]
    assert [r["query"] for r in rows] == ["printer offline", "forgot password", "впн не работает"]
    assert [r["results"][0]["id"] for r in rows] == ["printer-offline", "reset-password", "vpn-oshibka"]


def test_build_with_bad_articles_exits_1_and_names_the_file(center: Path, tmp_path: Path):
    index = tmp_path / "index"
    assert run("build", "--articles", str(center), "--index", str(index)).exit_code == 0
    target = index.resolve()
    (center / "dup.md").write_text("---\ntitle: X\ncategory: vpn\nid: reset-password\n---\nBody\n", encoding="utf-8")
    result = run("build", "--articles", str(center), "--index", str(index))
    assert result.exit_code == 1
    assert f"{center}/dup.md:4: duplicate id 'reset-password'" in result.stderr
    assert "previous index is unchanged" in result.stderr
    assert index.resolve() == target


def test_search_errors_are_messages_not_tracebacks(tmp_path: Path, center: Path):
    missing = run("search", "x", "--index", str(tmp_path / "none"))
    assert missing.exit_code == 1 and "no index at" in missing.stderr and "Traceback" not in missing.output
    assert run("search").exit_code == 2
    index = tmp_path / "index"
    run("build", "--articles", str(center), "--index", str(index))
    other = CliRunner().invoke(cli, ["search", "x", "--index", str(index)], obj={},
                               env={"KB_EMBEDDING_MODEL": "all-MiniLM-L6-v2"})
    assert other.exit_code == 1 and "built with model 'fake-hashing'" in other.stderr


def test_bad_config_is_a_clear_error(tmp_path: Path):
    config = tmp_path / "kb.toml"
    config.write_text("port = 'eighty'\n", encoding="utf-8")
    result = run("--config", str(config), "check")
    assert result.exit_code == 1 and "setting 'port': 'eighty' is not a valid int" in result.stderr


def test_eval_and_explain(center: Path, tmp_path: Path):
    index = tmp_path / "index"
    run("build", "--articles", str(center), "--index", str(index))
    rows = tmp_path / "eval.jsonl"
    rows.write_text('{"query": "printer offline", "expected": "printer-offline"}\n'
                    '{"query": "qqqq zzzz", "expected": null}\n', encoding="utf-8")
    table = run("eval", str(rows), "--index", str(index))
    assert table.exit_code == 0 and "hybrid" in table.output and "out-of-scope AUROC" in table.output
    data = json.loads(run("eval", str(rows), "--index", str(index), "--json").output)
    assert data["in_scope"] == 1 and data["modes"]["hybrid"]["top1"] == 1.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{}\n", encoding="utf-8")
    result = run("eval", str(bad), "--index", str(index))
    assert result.exit_code == 1 and "bad.jsonl:1:" in result.stderr
    explained = run("search", "printer offline", "--index", str(index), "--explain")
    assert "keyword=" in explained.output and "category=" in explained.output and "confidence:" in explained.output


def test_database_commands_work_through_one_call_each(tmp_path: Path):
    import io

    from kb.errors import AccountError
    from kb.helpdesk import operations
    url = f"sqlite:///{tmp_path / 'ops.sqlite3'}"
    revision, shown = operations.migrate(url)
    assert revision and shown == url
    assert operations.create_organisation(url, "Acme") == "Acme"
    assert operations.create_user(url, "Ann@Acme.example", "s3cret-pass", "acme", "manager") == \
        operations.Account("ann@acme.example", "manager", "Acme")
    assert operations.create_staff(url, "bo@desk.example", "s3cret-pass", "agent", "printers") == \
        operations.Account("bo@desk.example", "agent", None)
    with pytest.raises(AccountError, match="no organisation named 'Nowhere'"):
        operations.create_user(url, "cy@nowhere.example", "s3cret-pass", "Nowhere", "member")
    assert not operations.seed_demo(url, if_empty=True).created
    assert operations.seed_demo(url).created and not operations.seed_demo(url).created
    labels = io.StringIO()
    assert operations.export_category_labels(url, labels) == 0 and labels.getvalue() == ""
