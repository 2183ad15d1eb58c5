"""`kb install-hook`: run `kb check` before every git commit of the articles' repository."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from kb.errors import KbError

MARKER = "# installed by kb install-hook"


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        raise KbError(f"git is needed to install the hook: {exc}") from None
    if done.returncode != 0:
        raise KbError(f"{cwd}: not inside a git repository ({done.stderr.strip() or 'git failed'})")
    return done.stdout.strip()


def install_hook(articles_dir: Path, force: bool = False, strict: bool = False) -> Path:
    """Write the repository's pre-commit hook; refuses to replace a hook kb did not write unless `force`."""
    articles_dir = articles_dir.resolve()
    if not articles_dir.is_dir():
        raise KbError(f"{articles_dir}: articles folder not found")
    top = Path(_git(articles_dir, "rev-parse", "--show-toplevel"))
    hooks = Path(_git(top, "rev-parse", "--git-path", "hooks"))
    hooks = hooks if hooks.is_absolute() else top / hooks
    hook = hooks / "pre-commit"
    if hook.exists() and MARKER not in hook.read_text(encoding="utf-8", errors="replace") and not force:
        raise KbError(f"{hook} exists and was not written by kb; use --force to replace it")
    relative = os.path.relpath(articles_dir, top)
    command = [sys.executable, "-m", "kb", "check", "--articles", relative] + (["--strict"] if strict else [])
    hooks.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\n" + MARKER + ": lint help articles before each commit\n"
                    'cd "$(git rev-parse --show-toplevel)" || exit 1\n'
                    "exec " + shlex.join(command) + "\n", encoding="utf-8")
    hook.chmod(0o755)
    return hook
