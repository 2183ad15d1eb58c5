"""Customer-facing pages: home, search results, categories, articles with views and helpfulness votes."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from kb.helpdesk.models import ArticleView, Vote, utcnow
from kb.index.records import IndexedArticle
from web.analytics import record_click, record_search, tracked
from web.article_html import article_html, article_url
from web.community_search import community_hits, is_community, merge, prime, question_url
from web.context import current_user, db, returning_visitor, visitor
from web.forms import ActionForm, clean
from web.i18n import current_language
from web.notices import matching
from web.snippets import snippet

bp = Blueprint("portal", __name__)
TOP_QUESTIONS = 6
FILTERED_K = 50
VOTE_REASON_MAX = 500


def _service():
    return current_app.extensions["kb.search"]


def public_articles() -> Mapping[str, IndexedArticle]:
    return _service().visible_articles("public")


def preferred_version(meta: IndexedArticle, articles: Mapping[str, IndexedArticle]) -> IndexedArticle:
    """Of an article's language versions, the one in the interface language, else the default language's."""
    translations = meta.translations
    if not translations:
        return meta
    for lang in (current_language(), current_app.config["KB_SETTINGS"].default_lang):
        if translations.get(lang) in articles:
            return articles[translations[lang]]
    shown = sorted(key for key in translations.values() if key in articles)
    return articles[shown[0]] if shown else meta


def one_version_each(metas: Iterable[IndexedArticle],
                     articles: Mapping[str, IndexedArticle]) -> list[IndexedArticle]:
    """Lists show each article once, in the reader's language where it has a version in it."""
    seen, out = set(), []
    for meta in metas:
        chosen = preferred_version(meta, articles)
        if chosen.id not in seen:
            seen.add(chosen.id)
            out.append(chosen)
    return out


def other_versions(meta: IndexedArticle) -> list[tuple[str, str]]:
    """(lang, key) of the article's versions in other languages: the interface language's first."""
    articles = public_articles()
    lang = current_language()
    others = [(code, key) for code, key in meta.translations.items()
              if key != meta.id and key in articles and isinstance(code, str)]
    return sorted(others, key=lambda pair: (pair[0] != lang, pair[0]))


@bp.app_template_global()
def category_title(category_id: str | None, audience: str = "internal") -> str:
    """A category's title for staff (any category; its id when unknown), or for customers ('public': a category
    holding only internal articles has no title they may see, and its id is not shown either)."""
    categories = _service().visible_categories(audience)
    if audience == "public":
        return categories.get(category_id or "", {}).get("title", "")
    return categories.get(category_id or "", {}).get("title", category_id or "")


def top_questions(limit: int = TOP_QUESTIONS) -> list[IndexedArticle]:
    """The public articles the most visitors viewed, topped up with the featured ones.

    Distinct visitors, not views: one client reloading a page, or throwing its cookie away (its address is given
    only so many visitor ids), cannot move an article up by much."""
    articles = public_articles()
    readers = func.count(ArticleView.visitor.distinct())
    views = db().execute(select(ArticleView.article_id, readers).group_by(ArticleView.article_id)
                         .order_by(readers.desc(), ArticleView.article_id).limit(limit * 4)).all()
    chosen = one_version_each((articles[a] for a, _ in views if a in articles), articles)[:limit]
    for meta in one_version_each(sorted((a for a in articles.values() if a.featured), key=lambda a: a.title),
                                 articles):
        if len(chosen) >= limit:
            break
        if meta not in chosen:
            chosen.append(meta)
    return chosen


@bp.get("/")
def home():
    if request.args.get("q", "").strip():
        return search()
    if request.args.get("category"):
        return category(request.args["category"])
    articles = public_articles()
    counts = Counter(a.category for a in one_version_each(articles.values(), articles))
    return render_template("home.html", counts=counts, categories=_service().categories, top=top_questions(),
                           notices=matching(None))


@bp.get("/search")
def search():
    query = request.args.get("q", "")
    chosen = request.args.get("category", "")
    service = _service()
    if chosen not in service.categories:
        chosen = ""
    search_k = current_app.config["KB_SETTINGS"].search_k
    if query.strip() and not chosen:
        prime(service, query)
    response = service.search(query, k=FILTERED_K if chosen else search_k, lang=current_language()) \
        if query.strip() else None
    hits = response.hits if response else []
    if chosen:
        hits = [h for h in hits if h.category == chosen][:search_k]
    token = record_search("portal", query, response, len(hits)) if response else ""
    results = [{"kind": "article", "hit": h, "snippet": snippet(service.page(service.articles[h.id]), h.anchor,
                                                                 response.corrected or query),
                "url": tracked(article_url(h.id, h.anchor), token, position),
                "category_title": category_title(h.category)} for position, h in enumerate(hits, start=1)]
    # Community answers (none within a chosen category: questions are filed by topic, not category)
    community = community_hits(service, query, hits) if response and not chosen else []
    if community:
        by_id = {r["hit"].id: r for r in results}
        results = [{"kind": "community", "hit": h, "snippet": h.excerpt(), "url": question_url(h)}
                   if is_community(h) else by_id[h.id] for h in merge(hits, community)]
    return render_template("search.html", query=query, response=response, results=results, chosen=chosen,
                           categories=service.categories, predicted_title=category_title(response.category)
                           if response else "")


@bp.get("/categories/<category_id>")
def category(category_id: str):
    categories = _service().categories
    if category_id not in categories:
        abort(404)
    articles = public_articles()
    listed = sorted(one_version_each((a for a in articles.values() if a.category == category_id), articles),
                    key=lambda a: a.title)
    return render_template("category.html", category_id=category_id, category=categories[category_id], listed=listed)


def last_updated(meta: IndexedArticle) -> datetime | None:
    """When the article last changed: its last commit (or its file, with uncommitted edits), else the build."""
    try:
        return datetime.fromisoformat(meta.git["updated"]).astimezone(timezone.utc)
    except (KeyError, TypeError, ValueError):
        pass
    try:
        return datetime.fromtimestamp(Path(meta.path).stat().st_mtime, timezone.utc)
    except (OSError, KeyError, ValueError):
        try:
            return datetime.fromisoformat(_service().manifest.built_at.replace("Z", "+00:00"))
        except (AttributeError, ValueError):
            return None


def record_view(article_id: str) -> None:
    """Count a view of the article: once per visitor and article a day (UTC)."""
    who = visitor()
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    seen = db().scalar(select(ArticleView.id).where(ArticleView.article_id == article_id,
                                                    ArticleView.visitor == who,
                                                    ArticleView.created_at >= today).limit(1))
    if seen is None:
        db().add(ArticleView(article_id=article_id, visitor=who))
        db().commit()


def _own_vote(article_id: str) -> Vote | None:
    return db().scalar(select(Vote).where(Vote.article_id == article_id, Vote.visitor == visitor()))


@bp.get("/articles/<article_id>")
def article(article_id: str):
    articles = public_articles()
    meta = articles.get(article_id)
    if meta is None:
        abort(404)
    record_view(article_id)
    record_click(article_id)
    versions = set(meta.translations.values()) | {article_id}
    related = [a for a in one_version_each((articles[r] for r in meta.related if r in articles), articles)
               if a.id not in versions]
    if len(related) < 3:  # fill up with the category's other articles
        related += sorted((a for a in one_version_each(articles.values(), articles)
                           if a.category == meta.category and a.id not in versions and a not in related),
                          key=lambda a: a.title)[:3 - len(related)]
    return render_template("article.html", article=meta, html=article_html(_service().page(meta)), related=related,
                           other_versions=other_versions(meta),
                           category=_service().categories.get(meta.category, {}), updated=last_updated(meta),
                           vote=_own_vote(article_id), form=ActionForm())


@bp.get("/articles/<article_id>/history")
def history(article_id: str):
    """The commits that changed the article: date, author, message. Staff only (internal articles included):
    commit messages and authors' names are the editors' business, so to everyone else the page does not exist."""
    user = current_user()
    meta = _service().visible_articles("internal").get(article_id) if user is not None and user.is_staff else None
    if meta is None:
        abort(404)
    commits = []
    for c in _service().history(article_id):
        try:
            commits.append({**c, "when": datetime.fromisoformat(c["date"]).astimezone(timezone.utc)})
        except (KeyError, TypeError, ValueError):
            continue
    return render_template("article_history.html", article=meta, commits=commits, git=meta.git)


@bp.post("/articles/<article_id>/vote")
def vote(article_id: str):
    """'Was this helpful?': one vote per visitor and article; a second vote replaces the first."""
    if article_id not in public_articles():
        abort(404)
    helpful = request.form.get("helpful")
    if helpful not in ("yes", "no"):
        flash(_("Choose Yes or No."), "error")
        return redirect(url_for("portal.article", article_id=article_id, _anchor="helpful"))
    if not returning_visitor():  # no visitor cookie this server issued: reloading the page gives one
        flash(_("This form has expired or did not come from this site. Reload the page and try again."), "error")
        return redirect(url_for("portal.article", article_id=article_id, _anchor="helpful"))
    # With a "no", what the reader says was missing (optional; kept to one line of at most 500 characters).
    reason = " ".join(clean(request.form.get("reason", "")).split())[:VOTE_REASON_MAX] if helpful == "no" else ""
    for _attempt in range(2):  # a concurrent first vote from the same visitor makes the insert fail once
        existing = _own_vote(article_id)
        if existing is None:
            db().add(Vote(article_id=article_id, visitor=visitor(), helpful=helpful == "yes", reason=reason))
        else:
            existing.helpful, existing.reason, existing.updated_at = helpful == "yes", reason, utcnow()
        try:
            db().commit()
            break
        except IntegrityError:
            db().rollback()
    flash(_("Thank you for your feedback."), "info")
    return redirect(url_for("portal.article", article_id=article_id, _anchor="helpful"))
