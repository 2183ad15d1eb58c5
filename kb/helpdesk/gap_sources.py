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
through the ORM models: `kb gaps` then neither imports nor maps every model (a third of its start-up;
bench/gaps.py). tests/test_gaps.py checks that these columns are the models' own, with their types.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from typing import TYPE_CHECKING, Union

from sqlalchemy import JSON, Boolean, DateTime, String, Text, column, false, func, select, table, true
from sqlalchemy.exc import SQLAlchemyError

from kb.errors import DatabaseError

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    Reader = Union[Connection, Session]  # what the queries run on: db.execute, db.scalars

SEARCH, TICKET = "search", "ticket"
# Distinct texts read and grouped: the most frequent failed searches, then unanswered tickets. Embedding them is
# most of the time taken; with search frequencies falling off as they do, the first few hundred hold most of the
# failed searches (bench/gaps.py reports the share).
SEARCH_TEXTS, TICKET_TEXTS = 300, 100
GAPS_DAYS = 30  # the period `kb gaps` reads by default (the serving process keeps its vectors warm)
TOKEN_CHUNK = 500  # tokens looked up per IN (...) list
TICKET_FILED = "ticket_filed"  # kb/helpdesk/analytics.py's event kind (imported from there, it would map every model)

SEARCHES = table("searches", column("token", String), column("created_at", DateTime), column("query", Text),
                 column("searched", Text), column("confident", Boolean))
EVENTS = table("analytics_events", column("kind", String), column("search_token", String))
TICKETS = table("tickets", column("subject", String), column("description", Text), column("deflection", JSON),
                column("created_at", DateTime))


@dataclass(frozen=True)
class GapText:
    """One distinct text customers failed with: `text` is its most frequent spelling, `count` how often it came."""

    text: str
    count: int
    source: str  # SEARCH or TICKET


def fold(text: str) -> str:
    """The text as compared: whitespace runs made one space, case folded (in every script, unlike SQL's lower())."""
    return " ".join(text.split()).casefold()


def _in_period(column, since: datetime | None, until: datetime | None) -> list:
    return ([column >= since] if since is not None else []) + ([column < until] if until is not None else [])


def gap_texts(db: Reader, since: datetime | None, until: datetime | None = None, searches: int = SEARCH_TEXTS,
              tickets: int = TICKET_TEXTS) -> list[GapText]:
    """The `searches` most frequent failed search texts, then the `tickets` most frequent unanswered ticket texts.
    A database that cannot be read (e.g. a schema older than this kb) is a DatabaseError saying what to do."""
    try:
        return failed_searches(db, since, until, limit=searches) + unanswered_tickets(db, since, until, limit=tickets)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot read the recorded searches and tickets ({type(exc).__name__}: "
                            f"{str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}); if the database "
                            f"was made by an older kb, run `kb db upgrade`") from None


def read_gap_texts(engine: Engine, since: datetime | None, until: datetime | None = None) -> list[GapText]:
    """`gap_texts` on a connection of its own (e.g. in a thread of its own while the index loads)."""
    with engine.connect() as db:
        return gap_texts(db, since, until)


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
    rows = [*db.execute(failed), *db.execute(followed)]
    return _top(((searched or query, int(n)) for searched, query, n in rows), SEARCH, limit)


def unanswered_tickets(db: Reader, since: datetime | None = None, until: datetime | None = None,
                       limit: int = 500) -> list[GapText]:
    """Texts of tickets filed without a suggestion whose search was not recorded (see the module doc)."""
    tickets = TICKETS.c
    rows = db.execute(select(tickets.subject, tickets.description, tickets.deflection)
                      .where(*_in_period(tickets.created_at, since, until))).all()
    candidates: list[tuple[str, str]] = []  # (search token, text)
    for subject, description, deflection in rows:
        record = deflection if isinstance(deflection, dict) else {}
        if record.get("shown"):
            continue
        written = " ".join(part.strip() for part in (subject or "", description or "") if part and part.strip())
        candidates.append((str(record.get("search") or ""), str(record.get("query") or "").strip() or written))
    tokens = sorted({token for token, _ in candidates if token})
    recorded: set[str] = set()
    for start in range(0, len(tokens), TOKEN_CHUNK):
        recorded.update(db.scalars(select(SEARCHES.c.token).where(
            SEARCHES.c.token.in_(tokens[start:start + TOKEN_CHUNK]))))
    return _top(((t, 1) for token, t in candidates if t and token not in recorded), TICKET, limit)


def _top(counted, source: str, limit: int) -> list[GapText]:
    """(text, count) pairs merged by folded text; the `limit` most frequent, each shown as its most frequent
    spelling (ties: the text order, so the result does not depend on the database's row order)."""
    totals: dict[str, int] = {}
    spellings: dict[str, tuple[int, str]] = {}
    for text, count in counted:
        key = fold(text)
        if not key:
            continue
        totals[key] = totals.get(key, 0) + count
        best = spellings.get(key)
        if best is None or (count, best[1]) > (best[0], text):
            spellings[key] = (count, text)
    ranked = sorted(totals, key=lambda key: (-totals[key], key))[:max(0, limit)]
    return [GapText(" ".join(spellings[key][1].split()), totals[key], source) for key in ranked]
