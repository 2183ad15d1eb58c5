"""Running golden queries against a built index: does each expected article still rank in the top 3?"""
from __future__ import annotations

from dataclasses import dataclass

from kb.golden import GoldenQuery
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
    def passed(self) -> bool:
        if self.golden.expect is None:
            return not self.confident
        return self.rank is not None and self.rank <= TOP

    def describe(self) -> str:
        g = self.golden
        if g.expect is None:
            return (f"{g.where()}: {g.query!r} should find nothing with confidence, but {self.first} is offered "
                    f"(confidence {self.confidence:.2f})")
        where = f"now ranks {self.rank}" if self.rank else f"is not in the first {LOOK}"
        return f"{g.where()}: {g.query!r} expects {g.expect}, which {where} (first: {self.first})"


def run_golden(service: SearchService, queries: list[GoldenQuery]) -> list[GoldenResult]:
    service.prime([g.query for g in queries])
    results = []
    for g in queries:
        response = service.search(g.query, k=LOOK, audience="public")
        # an expected article is found in any of its language versions
        ids = [service.articles[h.id].get("group", h.id) for h in response.hits]
        rank = ids.index(g.expect) + 1 if g.expect in ids else None
        results.append(GoldenResult(g, rank, ids[0] if ids else None, response.confidence, response.confident))
    return results
