"""Full-text search over tickets, for the desk's queue: a ticket's words analysed as the articles' keyword index
analyses them (kb/text_analysis.py), stored in `ticket_search`, and searched with the database's own full-text
index (SQLite FTS5, PostgreSQL's GIN over a stored tsvector; see ticket_search_models.py).

A ticket's language is not known (customers mix them), so each word is stored in every form an analysis chain
gives it (English stem, Russian stem, Ukrainian lemma, and as typed, folded): "принтеры" is stored as
"принтер принтеры", and a query word matches when any of its own forms does. A query's words must all match
(AND); tickets are ranked by BM25 (SQLite) or ts_rank (PostgreSQL) over the stored terms.

Every write that changes a ticket's text (filing, a reply, any event with a body) calls `index_ticket` in the same
transaction; `reindex` rebuilds the whole table (`kb tickets reindex`).
"""
from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Iterable, Iterator

from sqlalchemy import Float, Integer, delete, func, literal_column, select, text
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql import Subquery

from kb.helpdesk.models import Ticket
from kb.helpdesk.ticket_search_models import FTS_TABLE, FTS_VECTOR, TicketSearch
from kb.text_analysis import analyzer

GROUPS = ("en", "ru", "uk", "any")  # the analysis chains a word is stored under ("any": folded, not stemmed)
QUERY_WORDS = 12  # words of a search text that are searched (the rest are ignored)
_WORD = re.compile(r"\w+(?:[.'’]\w+)*")  # the analysis chains' own tokenizer pattern
_NOT_TERM = re.compile(r"[\W_]+")  # left out of a stored term: both databases split on punctuation


@cache
def _chains():
    return {group: analyzer(group) for group in GROUPS}


@lru_cache(maxsize=200_000)  # bounded: error codes and names keep adding words
def word_forms(word: str) -> tuple[str, ...]:
    """The forms a word is stored and searched as, one per analysis chain, without repeats; () for a stop word."""
    forms: dict[str, None] = {}
    for chain in _chains().values():
        for token in chain(word):
            term = _NOT_TERM.sub("", token.text)
            if term:
                forms[term] = None
    return tuple(forms)


def ticket_terms(texts: Iterable[str]) -> str:
    """The analysed terms of `texts`, space-separated, each word's forms once per occurrence (for term frequency)."""
    out: list[str] = []
    for chunk in texts:
        for match in _WORD.finditer(chunk or ""):
            out.extend(word_forms(match.group(0)))
    return " ".join(out)


def query_forms(query: str) -> list[tuple[str, ...]]:
    """Each searched word of `query` with its forms; stop words (no forms) are left out."""
    words = [w for w in dict.fromkeys(m.group(0) for m in _WORD.finditer(query or ""))]
    return [forms for forms in (word_forms(w) for w in words[:QUERY_WORDS]) if forms]


def _texts(ticket: Ticket) -> Iterator[str]:
    yield ticket.subject
    yield ticket.subject_fixed or ""
    yield ticket.description
    for event in ticket.events:  # replies of customers and agents, notes: every event's text
        yield event.body or ""


def index_ticket(db: Session, ticket: Ticket) -> None:
    """Store `ticket`'s current text in the search table (in the caller's transaction)."""
    db.flush()  # (the ticket needs its id)
    terms = ticket_terms(_texts(ticket))
    row = db.get(TicketSearch, ticket.id)
    if row is None:
        db.add(TicketSearch(ticket_id=ticket.id, terms=terms))
    elif row.terms != terms:
        row.terms = terms
    db.flush()


def reindex(db: Session, batch: int = 500) -> int:
    """Rebuild the search table from every ticket; the number of tickets indexed."""
    db.execute(delete(TicketSearch))
    if db.get_bind().dialect.name == "sqlite":  # (the triggers keep the FTS table in step with deletions too,
        db.execute(text(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"))  # but rebuild compacts it)
    count, last = 0, 0
    while True:
        tickets = list(db.scalars(select(Ticket).where(Ticket.id > last).order_by(Ticket.id).limit(batch)
                                  .options(selectinload(Ticket.events))))
        if not tickets:
            return count
        db.add_all(TicketSearch(ticket_id=t.id, terms=ticket_terms(_texts(t))) for t in tickets)
        db.flush()
        db.expunge_all()  # (memory stays flat over 100,000 tickets)
        count += len(tickets)
        last = tickets[-1].id


def _sqlite_match(forms: list[tuple[str, ...]]) -> str:
    return " AND ".join("(" + " OR ".join(f'"{f}"' for f in word) + ")" for word in forms)


def _tsquery(forms: list[tuple[str, ...]]) -> str:
    return " & ".join("(" + " | ".join(f"'{f}'" for f in word) + ")" for word in forms)


def matches(db: Session, query: str, ranked: bool = True) -> Subquery | None:
    """The tickets matching `query` as a subquery (ticket_id, rank; a lower rank is better; 0 for all unless
    `ranked`, for counting), or None when the query has no searchable word (only stop words or punctuation)."""
    forms = query_forms(query)
    if not forms:
        return None
    if db.get_bind().dialect.name == "sqlite":
        rank = f"bm25({FTS_TABLE})" if ranked else "0.0"
        return (text(f"SELECT rowid AS ticket_id, {rank} AS rank FROM {FTS_TABLE} "
                     f"WHERE {FTS_TABLE} MATCH :match").bindparams(match=_sqlite_match(forms))
                .columns(ticket_id=Integer, rank=Float).subquery("matched"))
    vector = literal_column(f"{TicketSearch.__tablename__}.{FTS_VECTOR}")  # PostgreSQL: the stored tsvector
    tsquery = func.to_tsquery(literal_column("'simple'"), _tsquery(forms))
    rank = -func.ts_rank(vector, tsquery) if ranked else literal_column("0.0")
    return (select(TicketSearch.ticket_id.label("ticket_id"), rank.label("rank"))
            .where(vector.op("@@")(tsquery)).subquery("matched"))


def reindex_database(database_url: str) -> int:
    """`kb tickets reindex`: the search table rebuilt from every ticket in one transaction (its schema brought up
    to date first); the number of tickets indexed."""
    from kb.helpdesk.db import open_database

    engine, sessions = open_database(database_url)
    try:
        with sessions.begin() as db:
            return reindex(db)
    finally:
        engine.dispose()
