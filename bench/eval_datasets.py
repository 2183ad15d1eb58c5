"""Search quality on real customer queries: Banking77 and Bitext help centers, end to end.

    .venv/bin/python bench/eval_datasets.py [--datasets banking77 bitext] [--questions 10] [--seed 13]
                                            [--work DIR] [--ood 500] [--fallback-queries 200] [--fallback]

For each data set: generate the help center and eval.jsonl with bench/datasets.py, then run the real CLI as a
user would (`python -m kb` in a subprocess): `kb check --strict`, `kb build`, and `kb eval eval.jsonl --json`.
If `kb eval` is not available (or fails), the script says so and computes fallback figures itself: it
runs `kb search --batch FILE --json -k 3` on the first --fallback-queries in-scope queries of eval.jsonl and
reports top-1 accuracy and recall@3 against `expected` (`--fallback` computes them even when `kb eval`
works).

Work folders go to a temporary folder that is removed at the end, or to --work DIR, which is kept. Prints a
table per data set and writes bench/out/eval_datasets.json. It asserts nothing: it measures.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.dont_write_bytecode = True  # write nothing into the repository but bench/out
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.datasets import (  # noqa: E402
    DATASETS, DEFAULT_DATA_DIR, DEFAULT_OOD, DEFAULT_QUESTIONS, DEFAULT_SEED, generate,
)

OUT_FILE = ROOT / "bench" / "out" / "eval_datasets.json"
_BUILT_RE = re.compile(r"built (\d+) article\(s\), (\d+) passage\(s\)")


def kb(*args: str | Path, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    """Run `python -m kb ARGS` with the interpreter running this script, from the project root, offline."""
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([sys.executable, "-m", "kb", *map(str, args)], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout)


def _tail(proc: subprocess.CompletedProcess[str], lines: int = 5) -> str:
    """The last lines a command printed (stderr, else stdout), to quote in a message."""
    text = (proc.stderr.strip() or proc.stdout or "").strip()
    return "\n".join(text.splitlines()[-lines:])


def read_eval(path: Path) -> list[dict[str, Any]]:
    """The rows of an eval.jsonl file."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def parse_json_output(text: str) -> Any:
    """`kb eval --json` output: one JSON document, or JSON lines (returned as a list)."""
    text = text.strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return [json.loads(line) for line in text.splitlines() if line.strip()]


def fallback_figures(eval_file: Path, index: Path, work: Path, limit: int) -> dict[str, Any]:
    """Top-1 accuracy and recall@3 of `kb search --batch` on the first `limit` in-scope rows of eval_file."""
    rows = [row for row in read_eval(eval_file) if row.get("expected")][:limit]
    batch = work / "fallback-queries.txt"
    batch.write_text("".join(row["query"] + "\n" for row in rows), encoding="utf-8")
    start = time.perf_counter()
    proc = kb("search", "--batch", batch, "--json", "-k", "3", "--index", index)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"kb search --batch failed (exit {proc.returncode}):\n{_tail(proc)}")
    responses = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    if len(responses) != len(rows):
        raise RuntimeError(f"kb search --batch answered {len(responses)} of {len(rows)} queries")
    top1 = recall3 = 0
    misses: list[dict[str, Any]] = []
    for row, response in zip(rows, responses):
        ids = [hit["id"] for hit in response.get("results", [])[:3]]
        top1 += bool(ids) and ids[0] == row["expected"]
        recall3 += row["expected"] in ids
        if not ids or ids[0] != row["expected"]:
            misses.append({"query": row["query"], "expected": row["expected"], "got": ids})
    n = len(rows)
    return {"queries": n, "top1": round(top1 / n, 4) if n else None,
            "recall_at_3": round(recall3 / n, 4) if n else None,
            "seconds": round(seconds, 1), "misses_sample": misses[:10]}


def run_dataset(name: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Generate, check, build and evaluate one data set's help center; return everything measured."""
    folder = work / name
    summary = generate(name, folder, questions=args.questions, seed=args.seed, ood=args.ood,
                       data_dir=args.data)
    articles, index, eval_file = folder / "articles", folder / "index", folder / "eval.jsonl"
    result: dict[str, Any] = {"summary": summary.to_dict()}
    print(f"[{name}] generated {summary.articles} articles, "
          f"{summary.in_scope} + {summary.out_of_scope} eval rows in {folder}", flush=True)

    check = kb("check", "--articles", articles, "--strict")
    result["check"] = {"exit": check.returncode, "report": _tail(check, 1)}
    print(f"[{name}] kb check --strict: {result['check']['report']}", flush=True)

    print(f"[{name}] kb build ...", flush=True)
    start = time.perf_counter()
    build = kb("build", "--articles", articles, "--index", index)
    result["build"] = {"exit": build.returncode, "seconds": round(time.perf_counter() - start, 1)}
    if build.returncode != 0:
        print(f"[{name}] kb build failed (exit {build.returncode}):\n{_tail(build)}", file=sys.stderr)
        return result
    match = _BUILT_RE.search(build.stdout)
    if match:
        result["build"].update(articles=int(match.group(1)), passages=int(match.group(2)))
    print(f"[{name}] {build.stdout.strip()}", flush=True)

    print(f"[{name}] kb eval ...", flush=True)
    evaluation = kb("eval", eval_file, "--index", index, "--json")
    if evaluation.returncode == 0:
        try:
            result["eval"] = parse_json_output(evaluation.stdout)
        except json.JSONDecodeError:
            result["eval"] = {"raw": evaluation.stdout.strip()}
    else:
        result["eval_error"] = {"exit": evaluation.returncode, "message": _tail(evaluation, 3)}
        print(f"[{name}] `kb eval` is not available or failed (exit {evaluation.returncode}: "
              f"{_tail(evaluation, 1)}); computing fallback figures with `kb search --batch` instead",
              flush=True)
    if evaluation.returncode != 0 or args.fallback:
        try:
            result["fallback"] = fallback_figures(eval_file, index, folder, args.fallback_queries)
        except RuntimeError as exc:
            result["fallback_error"] = str(exc)
            print(f"[{name}] fallback evaluation failed: {exc}", file=sys.stderr)
    return result


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted key, scalar) pairs of a JSON document, lists of more than a few items left out."""
    if isinstance(value, dict):
        return [pair for key, item in value.items() for pair in _flatten(item, f"{prefix}{key}.")]
    if isinstance(value, list):
        if len(value) > 5:
            return [(prefix.rstrip(".") + " (items)", len(value))]
        return [pair for i, item in enumerate(value) for pair in _flatten(item, f"{prefix}{i}.")]
    return [(prefix.rstrip("."), value)]


def print_table(name: str, result: dict[str, Any]) -> None:
    """One data set's figures as a two-column table."""
    summary, build = result["summary"], result.get("build", {})
    rows: list[tuple[str, Any]] = [
        ("articles / categories", f"{summary['articles']} / {summary['categories']}"),
        ("questions per article", summary["questions"]),
        ("eval rows in / out of scope", f"{summary['in_scope']} / {summary['out_of_scope']}"),
        ("kb check --strict", result["check"]["report"]),
        ("build seconds / passages", f"{build.get('seconds', '-')} / {build.get('passages', '-')}"),
    ]
    if "eval" in result:
        rows += [(f"kb eval: {key}", value) for key, value in _flatten(result["eval"])]
    if "eval_error" in result:
        rows.append(("kb eval", f"unavailable (exit {result['eval_error']['exit']})"))
    if "fallback" in result:
        fb = result["fallback"]
        rows += [("fallback figures: queries", f"first {fb['queries']} in-scope rows"),
                 ("fallback figures: top-1", fb["top1"]),
                 ("fallback figures: recall@3", fb["recall_at_3"]),
                 ("fallback figures: search seconds", fb["seconds"])]
    if "fallback_error" in result:
        rows.append(("fallback figures", "failed: " + " ".join(result["fallback_error"].split())))
    width = max(len(label) for label, _ in rows)
    print(f"\n{name}")
    print("-" * (width + 30))
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--datasets", nargs="+", choices=DATASETS, default=list(DATASETS))
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS, help="Questions per article.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--ood", type=int, default=DEFAULT_OOD, help="Out-of-scope rows per eval file.")
    parser.add_argument("--work", type=Path, default=None,
                        help="Work folder to keep (default: a temporary one).")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="Folder of the data sets.")
    parser.add_argument("--fallback-queries", type=int, default=200,
                        help="In-scope queries the fallback evaluation searches.")
    parser.add_argument("--fallback", action="store_true",
                        help="Compute fallback figures even if kb eval works.")
    parser.add_argument("--out", type=Path, default=OUT_FILE, help="Where the figures are written as JSON.")
    args = parser.parse_args(argv)

    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="kb-eval-datasets-") as tmp:
        work = args.work.resolve() if args.work else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for name in args.datasets:
            results[name] = run_dataset(name, work, args)
            print_table(name, results[name])
            print(flush=True)

    report = {"settings": {"datasets": args.datasets, "questions": args.questions, "seed": args.seed,
                           "embedding_model": os.environ.get("KB_EMBEDDING_MODEL", "auto"),
                           "ood": args.ood, "fallback_queries": args.fallback_queries,
                           "work": str(args.work) if args.work else None},
              "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    failed = [name for name, result in results.items() if result.get("build", {}).get("exit") != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
