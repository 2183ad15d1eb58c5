"""Editors' tools: `kb new` skeletons and the git pre-commit hook."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from kb.check import load_help_center
from kb.cli import cli
from kb.config import Settings
from kb.scaffold import slugify
from tests.conftest import ROOT


def run(*args: str) -> "object":
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_slugify_transliterates_and_keeps_ids_url_friendly():
    assert slugify("Reset your password!") == "reset-your-password"
    assert slugify("Принтер не печатает") == "printer-ne-pechataet"
    assert slugify("Їжак і ґанок") == "yizhak-i-ganok"
    assert slugify("🙂 ???") == "article"
    assert len(slugify("word " * 40)) <= 60


def test_new_writes_a_valid_draft_with_a_unique_id(center: Path):
    first = run("new", "Printer shows Offline", "--category", "printers", "--articles", str(center))
    assert first.exit_code == 0, first.output
    path = Path(first.output.strip())
    assert path == center / "printers" / "printer-shows-offline.md"
    second = run("new", "Printer shows Offline", "--category", "printers", "--articles", str(center))
    assert Path(second.output.strip()).name == "printer-shows-offline-2.md"
    russian = run("new", "Сканер не сканирует", "--category", "printers", "--lang", "ru", "--articles", str(center))
    ru_path = Path(russian.output.strip())
    assert ru_path == center / "ru" / "skaner-ne-skaniruet-ru.md"
    front = yaml.safe_load(ru_path.read_text(encoding="utf-8").split("---")[1])
    assert front["lang"] == "ru" and front["status"] == "draft" and front["title"] == "Сканер не сканирует"
    loaded = load_help_center(center, Settings(), strict=True)
    assert loaded.problems == []
    ids = [a.id for a in loaded.articles]
    assert len(ids) == len(set(ids)) and "printer-shows-offline-2" in ids
    assert all(a.status == "draft" for a in loaded.articles if a.id.startswith(("printer-shows", "skaner")))


@pytest.mark.parametrize("args, message", [
    (["", "--category", "printers"], "title"),
    (["Title", "--category", "nope"], "category 'nope' is not in"),
    (["Title", "--category", "printers", "--lang", "русский"], "lang"),
])
def test_new_refuses_bad_input_with_a_clear_message(center: Path, args, message):
    result = CliRunner().invoke(cli, ["new", *args, "--articles", str(center)])
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output


def git(repo: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ed", "GIT_AUTHOR_EMAIL": "ed@example.com", "GIT_COMMITTER_NAME": "Ed",
           "GIT_COMMITTER_EMAIL": "ed@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, env=env)


def test_pre_commit_hook_blocks_a_broken_article_and_names_file_and_line(tmp_path: Path, center: Path):
    git(tmp_path, "init", "-q", "-b", "main")
    result = run("install-hook", "--articles", str(center))
    assert result.exit_code == 0, result.output
    hook = tmp_path / ".git" / "hooks" / "pre-commit"
    assert os.access(hook, os.X_OK)
    git(tmp_path, "add", ".")
    assert git(tmp_path, "commit", "-q", "-m", "articles").returncode == 0
    broken = center / "printers" / "broken.md"
    broken.write_text("---\ntitle: Broken\ncategory: nowhere\n---\nBody.\n", encoding="utf-8")
    git(tmp_path, "add", ".")
    refused = git(tmp_path, "commit", "-q", "-m", "broken")
    assert refused.returncode != 0
    assert "printers/broken.md:3" in refused.stdout + refused.stderr
    broken.write_text("---\ntitle: Fixed\ncategory: printers\n---\nBody.\n", encoding="utf-8")
    git(tmp_path, "add", ".")
    assert git(tmp_path, "commit", "-q", "-m", "fixed").returncode == 0


def test_install_hook_keeps_a_foreign_hook_unless_forced(tmp_path: Path, center: Path):
    git(tmp_path, "init", "-q")
    hook = tmp_path / ".git" / "hooks" / "pre-commit"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho mine\n", encoding="utf-8")
    refused = CliRunner().invoke(cli, ["install-hook", "--articles", str(center)])
    assert refused.exit_code == 1 and "--force" in refused.output and "echo mine" in hook.read_text()
    assert run("install-hook", "--articles", str(center), "--force").exit_code == 0
    assert "kb" in hook.read_text() and "echo mine" not in hook.read_text()


def test_install_hook_outside_git_says_so(tmp_path: Path, center: Path):
    result = CliRunner().invoke(cli, ["install-hook", "--articles", str(center)])
    assert result.exit_code == 1 and "not inside a git repository" in result.output


def test_pre_commit_framework_manifest_runs_kb_check():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = hooks
    assert hook["id"] == "kb-check" and hook["entry"] == "kb check" and hook["pass_filenames"] is False
