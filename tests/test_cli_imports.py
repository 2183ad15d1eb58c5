"""`kb --help` (and every command's --help) answers without importing the heavy libraries: the CLI imports what a
command needs inside the command, so a typo or a look at the options never pays for torch, FAISS or Flask."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HEAVY = ("torch", "faiss", "flask", "whoosh", "sentence_transformers", "transformers", "onnxruntime", "numpy",
         "sqlalchemy", "alembic", "waitress")

# Run in a fresh interpreter: this test process has long imported all of them.
WALK = """
import json, sys
import click
from click.testing import CliRunner
from kb.cli import cli

def commands(group, path):
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from commands(command, path + [name])

helped = []
for path in commands(cli, []):
    result = CliRunner().invoke(cli, path + ["--help"], obj={})
    assert result.exit_code == 0 and "Usage:" in result.output, (path, result.output)
    helped.append(" ".join(path))
print(json.dumps({"helped": helped, "imported": sorted(m for m in sys.argv[1:] if m in sys.modules)}))
"""


def test_help_of_every_command_imports_no_heavy_library():
    done = subprocess.run([sys.executable, "-c", WALK, *HEAVY], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert {"", "check", "build", "search", "serve", "eval", "user add", "agent add"} <= set(found["helped"])
    assert found["imported"] == []


def test_python_m_kb_help_answers():
    done = subprocess.run([sys.executable, "-m", "kb", "--help"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0 and "serve" in done.stdout and "check" in done.stdout, done.stderr
