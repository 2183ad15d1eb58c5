"""Writing a benchmark's figures: the JSON file under bench/out/ that each bench leaves behind."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def write_report(path: Path, results: Any) -> None:
    """`results` as indented JSON at `path` (its folder made as needed), and a line saying where."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"written to {path}")
