"""Community answers beside the articles: in the search page, `/api/search` and the contact form's suggestions.

The index itself is search/community.py, kept fresh by web/community_worker.py. A community hit is marked as one
everywhere ("kind": "community"), links to its question's page, and comes below the articles at least as relevant
(search/community.py `merge`). It never makes the contact form's suggestions confident unless an agent endorsed
its answer (`suggested`).
"""
from __future__ import annotations

from typing import Any, Sequence

from flask import Flask, current_app, url_for

from search.community import KIND, CommunityHit, CommunityIndex, merge, within_list

EXTENSION = "kb.community_index"
MAX_HITS = 3  # community answers in one list at most: the articles stay the help center's answer


def community_index(app: Flask | None = None) -> CommunityIndex:
    """The process's community index (empty until the first pass of web/community_worker.py)."""
    app = app or current_app
    index = app.extensions.get(EXTENSION)
    if index is None:
        index = app.extensions.setdefault(EXTENSION, CommunityIndex())
    return index


def enabled() -> bool:
    return current_app.config["KB_SETTINGS"].community_index_interval > 0 and len(community_index()) > 0


def community_version() -> int | None:
    """Which community answers a search meets now (the index's version), None when there are none."""
    return community_index().version if enabled() else None


def prime(service: Any, query: str) -> None:
    """Embed `query` once for both the article search and the community's (call before `service.search`)."""
    if enabled():
        service.prime([query])


def community_hits(service: Any, query: str, articles: Sequence[Any], k: int = MAX_HITS) -> list[CommunityHit]:
    """The community questions near `query` that may join the list of `articles` (the search's hits), best first;
    none when the community index is empty or off."""
    if not enabled() or not query.strip():
        return []
    settings = current_app.config["KB_SETTINGS"]
    vector = service.embed_queries([query])[0]
    found = community_index().search(vector, k, settings.community_search_penalty, -1.0)
    return within_list(found, articles, settings.community_search_min_cosine)


def is_community(hit: Any) -> bool:
    return getattr(hit, "kind", "") == KIND


def question_url(hit: CommunityHit) -> str:
    return url_for("community.question", question_id=hit.question_id)


def json_results(articles: Sequence[Any], community: Sequence[CommunityHit]) -> list[dict[str, Any]]:
    """`/api/search`'s results: articles (`"kind": "article"`) and community answers (`"kind": "community"`,
    with their question's `url`), merged."""
    return [{**h.to_dict(), "url": question_url(h)} if is_community(h) else {**h.to_dict(), "kind": "article"}
            for h in merge(articles, community)]


def suggested(article_items: list[dict[str, Any]], articles: Sequence[Any], community: Sequence[CommunityHit],
              confident: bool, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """The contact form's suggestions with community answers merged in, and whether they are confident. Only
    articles the search is confident of, and endorsed community answers, make suggestions confident; other
    community answers are listed only below confident articles."""
    endorsed = [h for h in community if h.endorsed]
    usable = list(community) if confident else endorsed
    if not usable:
        return article_items, confident
    by_id = {item["id"]: item for item in article_items}
    items = []
    for hit in merge([a for a in articles if a.id in by_id], usable):
        items.append({"kind": KIND, "id": hit.question_id, "title": hit.title, "category": "",
                      "anchor": "", "url": question_url(hit), "snippet": hit.excerpt(),
                      "endorsed": hit.endorsed} if is_community(hit) else by_id[hit.id])
    return items[:limit], confident or bool(endorsed)
