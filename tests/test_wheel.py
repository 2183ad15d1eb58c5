"""The wheel is the product: built from this tree, installed (not editable) into a fresh virtual environment, it
migrates a database, builds an index from articles and answers a search, with nothing read from this checkout."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import SMALL_CENTER, write_tree

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 900) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("src") / "kb"  # a clean copy: no build/ or egg-info left in the checkout
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(".git", ".venv", "var", "build", "dist",
                                                                "*.egg-info", "__pycache__", "test-artifacts"))
    run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(out),
         str(source)], cwd=out)
    (built,) = out.glob("kb-*.whl")
    return built


def test_the_wheel_carries_the_migrations_templates_and_catalogues(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("kb/helpdesk/migrations/env.py", "kb/helpdesk/migrations/script.py.mako",
                   "web/templates/base.html", "web/templates/mail/unknown_sender.txt",
                   "web/templates/mail/unknown_sender.subject.txt", "web/translations/ru/LC_MESSAGES/messages.po",
                   "web/templates/mail/ticket_received.txt", "web/templates/mail/ticket_received.subject.txt"):
        assert needed in names
    assert any(n.startswith("kb/helpdesk/migrations/versions/0001_") for n in names)
    assert not any(n.startswith(("tests/", "bench/", "articles/")) for n in names)


def test_the_installed_wheel_migrates_builds_and_searches(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    fresh_site = Path(run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          cwd=tmp_path).strip())
    # The dependencies come from the test environment's site-packages, added as a plain path entry: the .pth files
    # there (this checkout's editable install among them) are not read, so only the wheel provides kb.
    (fresh_site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        cwd=tmp_path)
    work = tmp_path / "work"
    write_tree(work / "articles", SMALL_CENTER)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_") and k != "PYTHONPATH"}
    env.update(HF_HUB_OFFLINE="1", KB_DATABASE_URL=f"sqlite:///{work / 'kb.sqlite3'}")
    where = run([str(python), "-c", "import kb, web, kb.helpdesk.db as d; print(kb.__file__, d.MIGRATIONS)"],
                cwd=work, env=env)
    assert str(ROOT) not in where and str(fresh_site) in where
    kb = str(env_dir / "bin" / "kb")
    run([kb, "db", "upgrade"], cwd=work, env=env)
    run([kb, "build"], cwd=work, env=env)
    found = json.loads(run([kb, "search", "my printer says offline", "--json"], cwd=work, env=env))
    assert found["results"][0]["id"] == "printer-offline"
