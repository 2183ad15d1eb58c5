"""The layout the README describes is the one the code has: the import contract holds (and would catch a wrong
arrow), and the README's package table names every package and every module it mentions."""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kb", "indexer", "search", "web")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    command = Path(sys.executable).parent / "lint-imports"
    return subprocess.run([str(command), "--no-cache"], cwd=root, capture_output=True, text=True, timeout=300)


def test_the_import_contract_holds():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize("module, wrong_import", [
    ("search/rank.py", "import indexer.build"),
    ("web/linkify.py", "from indexer import publish"),
    ("kb/helpdesk/routing.py", "import search.service"),
    ("kb/articles.py", "import web"),
    ("indexer/render.py", "from kb import cli"),
])
def test_the_import_contract_catches_a_wrong_arrow(tmp_path, module, wrong_import):
    copy = tmp_path / "copy"
    for package in PACKAGES:
        shutil.copytree(ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "setup.cfg", copy / "setup.cfg")
    target = copy / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n\ndef _wrong():\n    {wrong_import}\n",
                      encoding="utf-8")
    result = lint_imports(copy)
    assert result.returncode != 0 and "BROKEN" in result.stdout, result.stdout


def _real_packages() -> set[str]:
    found = set()
    for package in PACKAGES:
        for init in (ROOT / package).rglob("__init__.py"):
            found.add(".".join(init.parent.relative_to(ROOT).parts))
    return found


def _layout_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]


def test_the_readme_names_every_package_and_only_real_ones():
    listed = set(re.findall(r"^\| `([\w.]+)` \|", _layout_section(), re.M))
    assert listed == _real_packages()


def test_every_module_the_readme_names_exists_in_its_package():
    for row in re.finditer(r"^\| `([\w.]+)` \| (.*)$", _layout_section(), re.M):
        folder = ROOT / row.group(1).replace(".", "/")
        for name in re.findall(r"`([\w/]+(?:\.py|/))`", row.group(2)):
            assert (folder / name).exists(), f"{row.group(1)}: {name}"


def test_no_module_is_over_400_lines():
    sizes = {str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
             for folder in (*PACKAGES, "bench", "tests") for path in (ROOT / folder).rglob("*.py")}
    assert sizes and not {name: n for name, n in sizes.items() if n > 400}


def test_no_script_folder_shadows_a_standard_module():
    """`python bench/x.py` puts bench/ first on sys.path: a bench/queue.py there would replace the standard `queue`
    for every import the script makes (multiprocessing, joblib...), and each benchmark would fail to start."""
    names = {path.stem for folder in ("bench", "scripts") for path in (ROOT / folder).glob("*.py")}
    assert names and not names & set(sys.stdlib_module_names)
