"""Golden queries: customer phrasings the editors keep in `articles/queries.yml`, each with the article it must find.

    - query: my printer says offline
      expect: printer-offline
    - query: what's the weather tomorrow
      expect: none          # no article should be offered with confidence

`kb check` validates the file (every expected article exists, is published and public); `kb check --quality`
builds a temporary index and checks that each expected article ranks in the top 3 (search/golden.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from kb.articles import Article, Problem, load_yaml

GOLDEN_FILE = "queries.yml"
NONE = "none"


@dataclass(frozen=True)
class GoldenQuery:
    query: str
    expect: str | None  # an article id, or None: nothing should be offered with confidence
    path: str
    line: int

    def where(self) -> str:
        return f"{self.path}:{self.line}"


def load_golden(root: Path, articles: list[Article], shown_root: str | None = None) -> tuple[list[GoldenQuery],
                                                                                            list[Problem]]:
    """The golden queries of an articles folder (none if it has no queries.yml) and the problems found."""
    path = root / GOLDEN_FILE
    shown = f"{shown_root or root}/{GOLDEN_FILE}"
    if not path.is_file():
        return [], []
    try:
        data, node = load_yaml(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        return [], [Problem(shown, 1, f"not UTF-8 ({exc.reason})")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return [], [Problem(shown, (mark.line + 1) if mark else 1, f"invalid YAML: {getattr(exc, 'problem', exc)}")]
    if data is None:
        return [], []
    if not isinstance(data, list) or node is None:
        return [], [Problem(shown, 1, "expected a list of {query, expect} entries")]
    versions: dict[str, list[Article]] = {}  # translations share an id
    for a in articles:
        versions.setdefault(a.id, []).append(a)
    queries, problems = [], []
    for item, item_node in zip(data, node.value):
        line = item_node.start_mark.line + 1
        if not isinstance(item, dict):
            problems.append(Problem(shown, line, "each entry needs 'query' and 'expect'"))
            continue
        query, expect = item.get("query"), item.get("expect")
        if not isinstance(query, str) or not query.strip():
            problems.append(Problem(shown, line, "'query' must be the customer's words"))
            continue
        if not isinstance(expect, str) or not expect.strip():
            problems.append(Problem(shown, line, f"'expect' must be an article id or '{NONE}'"))
            continue
        expect = expect.strip()
        unknown = set(item) - {"query", "expect"}
        if unknown:
            problems.append(Problem(shown, line, f"unknown field(s) {', '.join(sorted(map(str, unknown)))}",
                                    "warning"))
        if expect != NONE:
            found = versions.get(expect)
            if not found:
                problems.append(Problem(shown, line, f"expected article '{expect}' does not exist"))
                continue
            if not any(a.status == "published" and a.audience == "public" for a in found):
                article = found[0]
                problems.append(Problem(shown, line, f"expected article '{expect}' is not published to customers "
                                                     f"({article.status}, {article.audience})"))
                continue
        queries.append(GoldenQuery(query.strip(), None if expect == NONE else expect, shown, line))
    return queries, problems
