"""What the articles folder brings besides text: its images and files (served when a public article shows them)
and the old addresses of articles moved here (answered with a permanent redirect to the article)."""
from __future__ import annotations

import posixpath
from typing import Mapping

from flask import Blueprint, abort, current_app, redirect, request, send_from_directory
from werkzeug.wrappers import Response

from kb.articles import normalise_alias
from kb.index.records import IndexedArticle
from web.article_html import article_url
from web.context import current_user

bp = Blueprint("article_files", __name__)

# Only these are served, each with its own type: never text/html or anything a browser would run as a page.
CONTENT_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp",
    ".avif": "image/avif", ".svg": "image/svg+xml", ".ico": "image/x-icon", ".pdf": "application/pdf",
    ".zip": "application/zip", ".txt": "text/plain; charset=utf-8", ".csv": "text/csv; charset=utf-8",
    ".mp4": "video/mp4", ".webm": "video/webm",
}
INLINE = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".svg", ".ico", ".mp4", ".webm"}


def _shown(audience: str) -> tuple[dict[str, str], set[str]]:
    """(old address -> article id, files its articles show) of what `audience` may read, worked out once per
    loaded index."""
    articles: Mapping[str, IndexedArticle] = current_app.extensions["kb.search"].visible_articles(audience)
    cache = current_app.extensions.setdefault("kb.article_files", {})
    cached = cache.get(audience)
    if cached is None or cached[0] is not articles:
        aliases = {alias: key for key, meta in sorted(articles.items()) for alias in meta.aliases}
        files = {name for meta in articles.values() for name in meta.files}
        cached = cache[audience] = (articles, aliases, files)
    return cached[1], cached[2]


def _may_see(name: str) -> bool:
    """Customers get the files of public articles; staff those of internal articles too (the desk shows them)."""
    if name in _shown("public")[1]:
        return True
    user = current_user()
    return user is not None and user.is_staff and name in _shown("internal")[1]


@bp.get("/files/<path:name>")
def article_file(name: str):
    """A file of the articles folder that an article the reader may see shows or links to; anything else is not
    found."""
    suffix = posixpath.splitext(name)[1].lower()
    if suffix not in CONTENT_TYPES or not _may_see(name):
        abort(404)
    root = current_app.config["KB_SETTINGS"].articles_dir
    response = send_from_directory(root.resolve(), name, mimetype=CONTENT_TYPES[suffix],
                                   as_attachment=suffix not in INLINE, max_age=3600)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if suffix == ".svg":  # an SVG opened on its own may carry script: it runs nothing here
        response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


def alias_redirect() -> Response | None:
    """A permanent redirect when the request's address is an old address of a public article, else None."""
    if request.method not in ("GET", "HEAD"):
        return None
    key = _shown("public")[0].get(normalise_alias(request.path))
    return redirect(article_url(key), 301) if key else None
