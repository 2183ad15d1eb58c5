"""Suggestions before a ticket: at most three articles, and only when the search is sure of its first answer."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from kb.helpdesk.models import Ticket, User
from kb.helpdesk.tickets import create_ticket
from kb.helpdesk.analytics import is_token
from web.analytics import record_search, tracked
from web.article_html import article_url
from web.clocks import sla_rules
from web.community_search import community_hits, community_version, prime, suggested
from web.context import db, route_group
from web.i18n import current_language
from web.notice_snapshot import notice_snapshot
from web.notices import notice_dict
from web.notifications import remember_language, ticket_filed
from web.snippets import snippet
from web.suggest_cache import Found, suggest_cache

MAX_SUGGESTIONS = 3
MIN_CHARS = 3
AUDIENCE = "public"  # the portal suggests what customers may read, whoever is signed in


@dataclass(frozen=True)
class Suggestions:
    query: str
    category: str | None = None
    category_title: str = ""
    category_p: float = 0.0
    confidence: float = 0.0
    confident: bool = False
    items: list[dict[str, Any]] = field(default_factory=list)
    search: str = ""  # the recorded search's token ('' when searches are not recorded)
    session: str = ""  # its typing session: a next search of the same form names it (web/analytics.py)
    # Known issues active now for the predicted category or for everyone (web/notices.py `notice_dict`).
    notices: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "category": self.category, "category_title": self.category_title,
                "category_p": round(self.category_p, 4), "confidence": round(self.confidence, 4),
                "confident": self.confident, "suggestions": self.items, "search": self.search,
                "session": self.session, "notices": self.notices}

    def record(self) -> dict[str, Any]:
        """What a ticket keeps of the customer's attempt to find an answer."""
        record = {"query": self.query, "category": self.category, "confidence": round(self.confidence, 4),
                  "shown": [{"id": i["id"], "title": i["title"]} for i in self.items if i.get("kind") != "community"],
                  "search": self.search}
        community = [i["id"] for i in self.items if i.get("kind") == "community"]
        return {**record, "community": community} if community else record


def problem_text(subject: str, description: str) -> str:
    return " ".join(part.strip() for part in (subject or "", description or "") if part and part.strip())


def suggest(text: str, source: str = "suggest", session: str = "", notices: bool = True) -> Suggestions:
    """Confident suggestions for `text`: the first answer when confident, and those after it that the search
    still lists with the suggestions' stricter margin and share (search/cutoff.py). The search is recorded as
    coming from `source`, in typing session `session`, whose earlier searches it replaces (web/analytics.py); a
    search without one starts a session. With `notices`, the known issues active for the predicted category (or
    for everyone) come along. A text asked before is answered from web/suggest_cache.py, and recorded all the same."""
    settings = current_app.config["KB_SETTINGS"]
    text = " ".join((text or "").split())[:settings.max_query_chars]
    if len(text) < MIN_CHARS:
        return Suggestions(text)
    found = suggestion_search(text, current_language())
    response = found.response
    shown = response.hits[:MAX_SUGGESTIONS] if response.confident else []
    token = record_search(source, text, response, len(shown), session)
    items = [{"kind": "article", "id": hit.id, "title": hit.title, "category": hit.category, "anchor": hit.anchor,
              "url": tracked(article_url(hit.id, hit.anchor), token, position), "snippet": snippet_text}
             for position, (hit, snippet_text) in enumerate(zip(shown, found.snippets), start=1)]
    # Community answers below the articles; only an endorsed one makes the suggestions confident.
    items, confident = suggested(items, shown, found.community, response.confident, MAX_SUGGESTIONS)
    known = [notice_dict(n) for n in notice_snapshot().matching([response.category or ""])] if notices else []
    return Suggestions(text, response.category, found.category_title, response.category_p, response.confidence,
                       confident, items, token, session if is_token(session or "") else token,
                       known)


def suggestion_search(text: str, lang: str, audience: str = AUDIENCE) -> Found:
    """The search behind the suggestions for `text` (cleaned as `suggest` cleans it) in interface language `lang`,
    over what `audience` may read: what every request asking it shares, kept in web/suggest_cache.py under the
    serving build and everything else the answer depends on."""
    service = current_app.extensions["kb.search"]  # the build pinned for this request answers, and names the entry
    key = (str(service.index_dir), community_version(), audience, lang, text)
    return suggest_cache().get(key, lambda: _search(service, text, lang, audience))


def _search(service: Any, text: str, lang: str, audience: str) -> Found:
    settings = current_app.config["KB_SETTINGS"]
    prime(service, text)
    response = service.search(text, k=MAX_SUGGESTIONS, audience=audience, lang=lang,
                              cosine_margin=settings.suggest_cosine_margin, score_share=settings.suggest_score_share)
    title = service.visible_categories(audience).get(response.category or "", {}).get("title", response.category or "")
    shown = response.hits[:MAX_SUGGESTIONS] if response.confident else []
    # the search stopped where relevance falls off (search/cutoff.py)
    snippets = tuple(snippet(service.page(service.articles[hit.id]), hit.anchor, text).striptags() for hit in shown)
    community = community_hits(service, text, response.hits) if response.query else []
    return Found(response, title, snippets, tuple(community))


def file_ticket(user: User, subject: str, description: str, category: str, searched: str = "",
                idempotency_key: str | None = None, session: str = "") -> Ticket:
    """A new ticket (not committed) with what the customer searched and was shown before filing it (`searched`,
    else the problem as written), its predicted category and the agent group that category routes to; its
    notifications are written into the outbox in the same transaction.
    Raises TicketError for a field the ticket cannot take."""
    shown = suggest(searched or problem_text(subject, description), source="form", session=session,
                    notices=False)
    ticket = create_ticket(db(), user, subject, description, category, deflection=shown.record(),
                           predicted=shown.category or "", group=route_group(shown.category),
                           idempotency_key=idempotency_key, rules=sla_rules(),
                           subject_fixed=current_app.extensions["kb.search"].fix_layout(subject))
    remember_language(user)  # the ticket's e-mail is written in the language it was filed in
    return ticket_filed(db(), ticket)
