"""Running golden queries against a built index: would a customer be shown each expected article?

A golden query passes when its expected article ranks in the top 3 AND the answer is confident (the contact form
and the search page offer answers only then); a `none` query passes when nothing is offered confidently.

`kb check --quality` builds the articles into a throw-away index and runs them (`check_quality`); the build
function is handed in by the caller, because search never imports the indexer.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from kb.config import Settings
from kb.golden import GOLDEN_FILE, GoldenQuery
from search.service import SearchService

TOP = 3
LOOK = 20  # how deep to look for an expected article that fell out of the top 3


@dataclass(frozen=True)
class GoldenResult:
    golden: GoldenQuery
    rank: int | None  # 1-based rank of the expected article, None if not in the first LOOK
    first: str | None
    confidence: float
    confident: bool

    @property
    def found(self) -> bool:
        """The expected article ranks in the top 3."""
        return self.rank is not None and self.rank <= TOP

    @property
    def passed(self) -> bool:
        if self.golden.expect is None:
            return not (self.confident and self.first)
        return self.found and self.confident

    def describe(self) -> str:
        g = self.golden
        if g.expect is None:
            return (f"{g.where()}: {g.query!r} should find nothing with confidence, but {self.first} is offered "
                    f"(confidence {self.confidence:.2f})")
        if self.found:
            return (f"{g.where()}: {g.query!r} finds {g.expect} at rank {self.rank}, but not confidently "
                    f"(confidence {self.confidence:.2f}): customers are not shown it")
        where = f"now ranks {self.rank}" if self.rank else f"is not in the first {LOOK}"
        return f"{g.where()}: {g.query!r} expects {g.expect}, which {where} (first: {self.first})"


@dataclass(frozen=True)
class QualityReport:
    """The outcome of `kb check --quality`: one result per golden query (none when there are no queries)."""
    articles_dir: Path
    results: list[GoldenResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def failures(self) -> list[str]:
        """One line per golden query that failed, with where its article now ranks."""
        return [r.describe() for r in self.results if not r.passed]

    def summary(self) -> str:
        if not self.results:
            return f"no golden queries ({self.articles_dir}/{GOLDEN_FILE}): nothing to check"
        total, failed = len(self.results), len(self.failures())
        return (f"{total} golden quer{'y' if total == 1 else 'ies'}: {total - failed} passed, {failed} failed "
                f"(expected article in the top {TOP} and confident; 'none': nothing offered confidently)")


def run_golden(service: SearchService, queries: list[GoldenQuery]) -> list[GoldenResult]:
    service.prime([g.query for g in queries])
    results = []
    for g in queries:
        response = service.search(g.query, k=LOOK, audience="public")
        # an expected article is found in any of its language versions
        ids = [service.articles[h.id].group for h in response.hits]
        rank = ids.index(g.expect) + 1 if g.expect in ids else None
        results.append(GoldenResult(g, rank, ids[0] if ids else None, response.confidence, response.confident))
    return results


def check_quality(settings: Settings, queries: list[GoldenQuery], build: Callable[..., Any]) -> QualityReport:
    """Build the articles with `build` (the indexer's `build_index`) into a temporary index that reuses the
    published index's embeddings, run the golden queries against it, and delete it; the published index is
    never touched. Builds nothing when there are no golden queries."""
    if not queries:
        return QualityReport(settings.articles_dir, [])
    with tempfile.TemporaryDirectory(prefix="kb-quality-") as tmp:
        scratch = settings.replace(index_dir=Path(tmp) / "index", keep_builds=0)
        build(scratch, progress=False, reuse_from=settings.index_dir)
        service = SearchService.load(scratch.index_dir, scratch)
        try:
            return QualityReport(settings.articles_dir, run_golden(service, queries))
        finally:
            service.close()
