"""What the portal records for insights (kb/helpdesk/analytics.py writes it off the request's path): every search
with what it found, a click on a result (its search's token and position ride on the result's link as `s` and
`p`), tickets filed after a search, and customer-effort answers. Nothing is recorded with `analytics = off`."""
from __future__ import annotations

from flask import Flask, current_app, request

from kb.helpdesk.analytics import CLICK, TICKET_FILED, EventLog, RetentionSweeper, is_token, new_token
from web.context import visitor
from web.forms import QUERY_MAX
from web.i18n import current_language

MAX_POSITION = 100


def init_app(app: Flask, settings, engine) -> None:
    app.extensions["kb.events"] = (EventLog(engine, sweeper=RetentionSweeper(engine, settings.analytics_retention_days))
                                   if settings.analytics == "on" else None)


def events() -> EventLog | None:
    return current_app.extensions.get("kb.events")


def analytics_visitor() -> str:
    """Who did it, for insights: a signed-in user or the random visitor cookie's id; '' for a client known only by
    its address (analytics never keeps one, not even hashed)."""
    who = visitor()
    return who if who.startswith(("user:", "v:")) else ""


def record_search(source: str, query: str, response, shown: int, session: str = "") -> str:
    """Record a search (`response`: a search.service.SearchResponse; `shown`: how many results the customer saw);
    the token that names it, '' when nothing is recorded. `session` is the contact form's typing session (the
    token of its first search), whose earlier searches this one replaces (kb/helpdesk/analytics.py)."""
    log = events()
    if log is None or response is None or not query.strip():
        return ""
    token = new_token()
    hits = response.hits[:shown] if shown else []
    log.search(token=token, source=source, visitor=analytics_visitor(), query=query[:QUERY_MAX],
               searched=(response.corrected or "")[:QUERY_MAX], lang=current_language() or "", results=len(hits),
               top_article=hits[0].id if hits else "", confidence=float(response.confidence),
               confident=bool(response.confident), category=response.category or "",
               session=session if is_token(session or "") else "")
    return token


def record_event(kind: str, **row) -> None:
    log = events()
    if log is not None:
        log.event(kind, visitor=analytics_visitor(), **row)


def tracked(url: str, token: str, position: int) -> str:
    """`url` (an article's page, maybe with an #anchor) carrying its search's token and the result's position."""
    if not token:
        return url
    path, hash_, anchor = url.partition("#")
    joiner = "&" if "?" in path else "?"
    return f"{path}{joiner}s={token}&p={position}{hash_}{anchor}"


def record_click(article_id: str) -> None:
    """An article page opened from a search result: its `s` and `p` parameters name the search and position."""
    token, position = request.args.get("s", ""), request.args.get("p", "")
    if not is_token(token) or not position.isdigit() or not 1 <= int(position) <= MAX_POSITION:
        return
    record_event(CLICK, search_token=token, article_id=article_id, position=int(position))


def record_ticket_filed(ticket) -> None:
    """A ticket filed after the search its deflection record names (web/suggestions.py)."""
    token = str((ticket.deflection or {}).get("search", ""))
    record_event(TICKET_FILED, search_token=token if is_token(token) else "", ticket_ref=ticket.ref)
