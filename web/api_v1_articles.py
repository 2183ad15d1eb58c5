"""/api/v1's articles and search (declared on web/api_v1.py's API): every article, internal ones included, as the
agent desk shows them to staff; an article's Markdown is read from its file in the articles folder."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from flask import current_app, jsonify, url_for

from kb.articles import parse_article
from kb.helpdesk.models import CATEGORY_MAX
from kb.index.records import IndexedArticle
from web.api_v1 import API, PAGE_MAX
from web.api_v1_spec import ApiError, Param
from web.article_html import article_html
from web.forms import QUERY_MAX
from web.i18n import current_language

SEARCH_MAX = 50
ARTICLE_ID = Param("article_id", "The article's id.", max_length=200)


def _service():
    return current_app.extensions["kb.search"]


def _summary(meta: IndexedArticle) -> dict[str, Any]:
    public = meta.audience == "public"
    return {"id": meta.id, "title": meta.title, "category": meta.category, "lang": meta.lang,
            "audience": meta.audience, "description": meta.description,
            "url": url_for("portal.article", article_id=meta.id, _external=True) if public else None}


def markdown_source(meta: IndexedArticle) -> str | None:
    """The Markdown body of the article's file, when it is still what the index was built from (None when the file
    changed since, is gone, or lies outside the articles folder)."""
    settings = current_app.config["KB_SETTINGS"]
    root = Path(settings.articles_dir).resolve()
    path = Path(meta.path).resolve()  # as the build found it: the articles folder joined with the file's place
    if not path.is_relative_to(root) or not path.is_file():
        return None
    article, _problems = parse_article(path, meta.path, default_lang=settings.default_lang,
                                       max_bytes=settings.max_article_kb * 1024)
    if article is None or article.content_hash != meta.hash:
        return None
    return article.body


@API.endpoint("GET", "/articles", "List articles (internal ones too), by id.", "read", "ArticlePage", query=(
    Param("category", "Only articles of this category.", max_length=CATEGORY_MAX),
    Param("lang", "Only articles in this language (e.g. en).", max_length=16),
    Param("page", "The page, from 1.", type="integer", minimum=1, maximum=100000, default=1),
    Param("per_page", "Articles per page.", type="integer", minimum=1, maximum=PAGE_MAX, default=50)))
def list_articles(data: dict[str, Any]):
    found = sorted((a for a in _service().articles.values()
                    if (not data["category"] or a.category == data["category"])
                    and (not data["lang"] or a.lang == data["lang"])), key=lambda a: a.id)
    size = data["per_page"]
    pages = max(1, math.ceil(len(found) / size))
    start = (data["page"] - 1) * size
    return jsonify(articles=[_summary(a) for a in found[start:start + size]], page=data["page"], pages=pages,
                   total=len(found))


@API.endpoint("GET", "/articles/<article_id>", "An article: rendered HTML and its Markdown source.", "read",
              "Article", path_params=(ARTICLE_ID,), errors=(404,))
def get_article(article_id: str, data: dict[str, Any]):
    meta = _service().articles.get(article_id)
    if meta is None:
        raise ApiError(404, f"there is no article {article_id[:200]}")
    return jsonify({**_summary(meta), "tags": list(meta.tags), "html": str(article_html(_service().page(meta))),
                    "markdown": markdown_source(meta)})


@API.endpoint("GET", "/search", "Search every article (internal ones too), best first.", "read", "SearchResults",
              query=(Param("q", "What to search for.", required=True, max_length=QUERY_MAX),
                     Param("k", "At most this many results.", type="integer", minimum=1, maximum=SEARCH_MAX,
                           default=10),
                     Param("lang", "The language the query is written in (default: the request's).",
                           max_length=16)))
def search(data: dict[str, Any]):
    response = _service().search(data["q"], k=data["k"], audience="internal", lang=data["lang"] or current_language())
    return jsonify(response.to_dict())
