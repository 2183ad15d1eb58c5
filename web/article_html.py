"""An article's page and address as the portal shows them: the index stores links between articles by id, and
the portal builds every URL itself."""
from __future__ import annotations

from flask import url_for
from markupsafe import Markup

from kb.index.links import resolve_article_links, resolve_asset_links
from kb.index.pages import ArticlePage


def article_url(article_id: str, anchor: str = "") -> str:
    """The customer-facing page of an article, at the section `anchor` names (the anchor as written)."""
    return url_for("portal.article", article_id=article_id) + (f"#{anchor}" if anchor else "")


def article_html(page: ArticlePage) -> Markup:
    """An article's rendered body (already sanitised at build time), its links to other articles pointing at their
    pages and its images and files at the portal's copy (web/article_files.py)."""
    html = resolve_asset_links(page.html, lambda path: url_for("article_files.article_file", name=path))
    return Markup(resolve_article_links(html, article_url))
