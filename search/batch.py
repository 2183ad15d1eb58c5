"""`kb search`: many queries answered by one loaded index, and a response as lines of text for a terminal."""
from __future__ import annotations

from typing import Iterator

from kb.config import Settings
from search.service import SearchResponse, SearchService

CHUNK = 256  # queries embedded together before they are answered one by one


def answer_all(settings: Settings, queries: list[str], k: int | None = None,
               audience: str = "public") -> Iterator[SearchResponse]:
    """Load the index at settings.index_dir once and answer each query in order."""
    service = SearchService.load(settings.index_dir, settings)
    try:
        for start in range(0, len(queries), CHUNK):
            chunk = queries[start:start + CHUNK]
            service.prime(chunk)
            for text in chunk:
                yield service.search(text, k=k, audience=audience)
    finally:
        service.close()


def format_response(response: SearchResponse, explain: bool = False) -> list[str]:
    """The query's verdict, then one line per hit (with its score parts when `explain`)."""
    verdict = "confident" if response.confident else "not confident"
    lines = [f"query: {response.query!r}  category: {response.category} ({response.category_p:.2f})  "
             f"confidence: {response.confidence:.2f} ({verdict})"]
    if not response.hits:
        lines.append("  no results")
    for rank, hit in enumerate(response.hits, start=1):
        where = f"#{hit.anchor}" if hit.anchor else ""
        lines.append(f"{rank:>3}. {hit.score:.4f}  {hit.id}{where}  [{hit.category}]  {hit.title}")
        if explain:
            lines.append("       " + "  ".join(f"{name}={value:.4f}" for name, value in hit.parts.items()))
    return lines
