"""The README's promises: two set-up commands, run first, and CI running exactly the test command."""
from __future__ import annotations

import re

from tests.conftest import ROOT


def first_code_block() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```[a-z]*\n(.*?)```", readme, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_first_block_has_run_then_test_command():
    commands = first_code_block()
    assert len(commands) == 2
    assert "run" in commands[0] and "test" in commands[1]
    for command in commands:
        script = ROOT / command.split()[0]
        assert script.is_file(), command


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    last = [line for line in ci.splitlines() if line.strip() and not line.startswith(("#", "set ", "cd "))][-1]
    assert last.strip() == first_code_block()[1].strip()


def test_readme_states_the_address():
    assert "http://127.0.0.1:8000/" in (ROOT / "README.md").read_text(encoding="utf-8")
