"""Customer-facing pages: search, categories, articles, and the JSON search API."""
from __future__ import annotations

from collections import Counter

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from markupsafe import Markup

bp = Blueprint("portal", __name__)
MAX_K = 50


def _service():
    return current_app.extensions["kb.search"]


def _public_articles() -> dict[str, dict]:
    return {i: a for i, a in _service().articles.items() if a["audience"] == "public"}


@bp.get("/")
def home():
    service = _service()
    query = request.args.get("q", "")
    category = request.args.get("category", "")
    response = service.search(query) if query.strip() else None
    hits = response.hits if response else []
    if category:
        hits = [h for h in hits if h.category == category]
    articles = _public_articles()
    counts = Counter(a["category"] for a in articles.values())
    listed = sorted((a for a in articles.values() if a["category"] == category), key=lambda a: a["title"]) \
        if category and not query.strip() else []
    featured = sorted((a for a in articles.values() if a["featured"]), key=lambda a: a["title"])
    return render_template("home.html", query=query, hits=hits, category=category, counts=counts,
                           categories=service.categories, listed=listed, featured=featured,
                           searched=response is not None)


@bp.get("/articles/<article_id>")
def article(article_id: str):
    meta = _public_articles().get(article_id)
    if meta is None:
        abort(404)
    related = [a for a in (_public_articles().get(r) for r in meta["related"]) if a]
    return render_template("article.html", article=meta, html=Markup(meta["html"]), related=related,
                           category=_service().categories.get(meta["category"], {}))


@bp.get("/api/search")
def api_search():
    try:
        k = min(MAX_K, max(1, int(request.args.get("k", "10"))))
    except ValueError:
        return jsonify(error="k must be a whole number"), 400
    response = _service().search(request.args.get("q", ""), k=k)
    return jsonify(response.to_dict())


@bp.app_errorhandler(404)
def not_found(_error):
    return render_template("error.html", title="Page not found",
                           message="There is no page at this address."), 404
