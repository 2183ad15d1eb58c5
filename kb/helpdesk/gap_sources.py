"""What customers failed to find, read from what was recorded: the texts of content gaps, with how often each came.

Two sources over a period [since, until) of naive UTC times:
- failed searches: recorded searches (kb/helpdesk/analytics.py) that were not confident, or that a ticket followed
  (a 'ticket_filed' event names the search), counted per text as searched (the fixed query when a layout or typo
  fix changed it, else the query as typed), with case and whitespace folded;
- unanswered tickets: tickets whose contact form offered no suggestion (it offers them only when its search is
  confident) and whose search was not recorded (analytics off or lost), so that no ticket is counted twice; the
  text is what the form searched, else the subject and description.

Grouping the texts by meaning needs the embeddings, so it is done above the helpdesk (search/gaps.py).

The three tables are read as SQLAlchemy Core tables of the columns read (`SEARCHES`, `EVENTS`, `TICKETS`), not
through the ORM models, which a reader need neither import nor map; tests/test_gaps_startup.py checks that these
columns are the models' own, with their types. The records and how rows become them are in
kb/helpdesk/gap_records.py, with `kb gaps`' own reading of an SQLite file (the same statements, without SQLAlchemy).
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Union

from sqlalchemy import JSON, Boolean, DateTime, String, Text, column, false, func, select, table, true
from sqlalchemy.exc import SQLAlchemyError

from kb.helpdesk.gap_records import (GAPS_DAYS, SEARCH, SEARCH_TEXTS, TICKET, TICKET_FILED, TICKET_TEXTS,  # noqa: F401
                                     TOKEN_CHUNK, GapText, fold, searched_texts, ticket_texts, unanswered, unreadable)

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    Reader = Union[Connection, Session]  # what the queries run on: db.execute, db.scalars

SEARCHES = table("searches", column("token", String), column("created_at", DateTime), column("query", Text),
                 column("searched", Text), column("confident", Boolean))
EVENTS = table("analytics_events", column("kind", String), column("search_token", String))
TICKETS = table("tickets", column("subject", String), column("description", Text), column("deflection", JSON),
                column("created_at", DateTime))


def _in_period(column, since: datetime | None, until: datetime | None) -> list:
    return ([column >= since] if since is not None else []) + ([column < until] if until is not None else [])


def gap_texts(db: Reader, since: datetime | None, until: datetime | None = None, searches: int = SEARCH_TEXTS,
              tickets: int = TICKET_TEXTS) -> list[GapText]:
    """The `searches` most frequent failed search texts, then the `tickets` most frequent unanswered ticket texts.
    A database that cannot be read (e.g. a schema older than this kb) is a DatabaseError saying what to do."""
    try:
        return failed_searches(db, since, until, limit=searches) + unanswered_tickets(db, since, until, limit=tickets)
    except SQLAlchemyError as exc:
        raise unreadable(exc) from None


def failed_searches(db: Reader, since: datetime | None = None, until: datetime | None = None,
                    limit: int = 500) -> list[GapText]:
    """The `limit` most frequent texts of searches that were not confident or that a ticket followed, most frequent
    first. SQL counts each (searched, query) pair, in two parts: the searches that were not confident (on SQLite
    from the index ix_searches_failed_text alone, already in its order: the literal `confident = 0` is what lets
    SQLite use that partial index) and the confident ones a ticket followed (few, found by token). The counts are
    then added up here per text as searched, case and whitespace folded."""
    searches, events = SEARCHES.c, EVENTS.c
    period = _in_period(searches.created_at, since, until)
    pair = (searches.searched, searches.query)
    failed = select(*pair, func.count()).where(searches.confident == false(), *period).group_by(*pair)
    ticketed = select(events.search_token).where(events.kind == TICKET_FILED, events.search_token != "")
    followed = (select(*pair, func.count())
                .where(searches.confident == true(), searches.token.in_(ticketed), *period).group_by(*pair))
    return searched_texts([*db.execute(failed), *db.execute(followed)], limit)


def unanswered_tickets(db: Reader, since: datetime | None = None, until: datetime | None = None,
                       limit: int = 500) -> list[GapText]:
    """Texts of tickets filed without a suggestion whose search was not recorded (see the module doc)."""
    tickets = TICKETS.c
    rows = db.execute(select(tickets.subject, tickets.description, tickets.deflection)
                      .where(*_in_period(tickets.created_at, since, until))).all()
    candidates = ticket_texts(rows)
    tokens = sorted({token for token, _ in candidates if token})
    recorded: set[str] = set()
    for start in range(0, len(tokens), TOKEN_CHUNK):
        recorded.update(db.scalars(select(SEARCHES.c.token).where(
            SEARCHES.c.token.in_(tokens[start:start + TOKEN_CHUNK]))))
    return unanswered(candidates, recorded, limit)
