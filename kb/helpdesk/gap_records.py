"""The texts of content gaps as records (`GapText`), how recorded rows become them, and `kb gaps`' own reading of
them (`read_gap_texts`): what the texts are and where they come from is kb/helpdesk/gap_sources.py's doc.

`kb gaps` reads an SQLite database with the sqlite3 module alone (`SQLITE_FAILED`, `SQLITE_FOLLOWED`,
`SQLITE_TICKETS`: the statements gap_sources.py's SQLAlchemy queries compile to on SQLite, the literal
`confident = 0` included, which lets SQLite count from the partial index ix_searches_failed_text): importing
SQLAlchemy was a fifth of what the command took once the rest was trimmed (bench/gaps.py). Any other database,
and an SQLite URL with options, is read through gap_sources.py. tests/test_gaps_startup.py checks that both
readings give the same texts.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterable
from urllib.parse import quote

from kb.errors import DatabaseError

SEARCH, TICKET = "search", "ticket"
# Distinct texts read and grouped: the most frequent failed searches, then unanswered tickets. Embedding them is
# most of the time taken; with search frequencies falling off as they do, the first few hundred hold most of the
# failed searches (bench/gaps.py reports the share).
SEARCH_TEXTS, TICKET_TEXTS = 300, 100
GAPS_DAYS = 30  # the period `kb gaps` reads by default (the serving process keeps its vectors warm)
TOKEN_CHUNK = 500  # tokens looked up per IN (...) list
TICKET_FILED = "ticket_filed"  # kb/helpdesk/analytics.py's event kind (imported from there, it would map every model)
SQLITE_SECONDS = 30  # how long a read waits for a writer's lock, as kb/helpdesk/db.py's engines wait

# {period}: " AND created_at >= ?" and/or " AND created_at < ?"; {where}: the same after " WHERE ", or nothing
SQLITE_FAILED = ("SELECT searched, query, count(*) FROM searches WHERE confident = 0{period} "
                 "GROUP BY searched, query")
SQLITE_FOLLOWED = ("SELECT searched, query, count(*) FROM searches WHERE confident = 1 AND token IN "
                   "(SELECT search_token FROM analytics_events WHERE kind = ? AND search_token != ''){period} "
                   "GROUP BY searched, query")
SQLITE_TICKETS = "SELECT subject, description, deflection FROM tickets{where}"
SQLITE_TOKENS = "SELECT token FROM searches WHERE token IN ({marks})"


@dataclass(frozen=True)
class GapText:
    """One distinct text customers failed with: `text` is its most frequent spelling, `count` how often it came."""

    text: str
    count: int
    source: str  # SEARCH or TICKET


def fold(text: str) -> str:
    """The text as compared: whitespace runs made one space, case folded (in every script, unlike SQL's lower())."""
    return " ".join(text.split()).casefold()


def unreadable(exc: Exception) -> DatabaseError:
    """The error of a database whose searches and tickets cannot be read (e.g. a schema older than this kb)."""
    message = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    return DatabaseError(f"cannot read the recorded searches and tickets ({type(exc).__name__}: {message}); if the "
                         f"database was made by an older kb, run `kb db upgrade`")


def searched_texts(rows: Iterable, limit: int) -> list[GapText]:
    """(searched, query, count) rows as the `limit` most frequent texts as searched."""
    return top_texts(((searched or query, int(n)) for searched, query, n in rows), SEARCH, limit)


def ticket_texts(rows: Iterable) -> list[tuple[str, str]]:
    """(subject, description, deflection) rows of tickets filed without a suggestion as (the token of the search
    their form recorded, or "", their text)."""
    candidates: list[tuple[str, str]] = []
    for subject, description, deflection in rows:
        record = deflection if isinstance(deflection, dict) else {}
        if record.get("shown"):
            continue
        written = " ".join(part.strip() for part in (subject or "", description or "") if part and part.strip())
        candidates.append((str(record.get("search") or ""), str(record.get("query") or "").strip() or written))
    return candidates


def unanswered(candidates: list[tuple[str, str]], recorded: set[str], limit: int) -> list[GapText]:
    """The `limit` most frequent texts of `ticket_texts`' candidates whose search was not `recorded`."""
    return top_texts(((t, 1) for token, t in candidates if t and token not in recorded), TICKET, limit)


def top_texts(counted, source: str, limit: int) -> list[GapText]:
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


def sqlite_file(database_url: str) -> Path | None:
    """The file of a plain SQLite URL (`sqlite:///relative` or `sqlite:////absolute`, no options); None for any
    other URL."""
    scheme, sep, rest = database_url.partition(":///")
    if scheme not in ("sqlite", "sqlite+pysqlite") or not sep or not rest or any(c in rest for c in "?#%"):
        return None
    return None if rest == ":memory:" or rest.startswith("file:") else Path(rest)


def read_gap_texts(database_url: str, since: datetime | None, until: datetime | None = None,
                   searches: int = SEARCH_TEXTS, tickets: int = TICKET_TEXTS) -> list[GapText]:
    """gap_sources.gap_texts of the database at `database_url`, on a connection of its own that only reads (the
    schema is not migrated: `kb db upgrade` does that): a plain SQLite file with sqlite3 alone (see the module doc),
    any other database through an SQLAlchemy engine."""
    path = sqlite_file(database_url)
    if path is None:
        from kb.helpdesk.db import make_engine
        from kb.helpdesk.gap_sources import gap_texts

        engine = make_engine(database_url)
        try:
            with engine.connect() as db:
                return gap_texts(db, since, until, searches, tickets)
        finally:
            engine.dispose()
    try:  # mode=rw: an existing file only (a reader creates none); it is only read
        connection = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=SQLITE_SECONDS)
    except sqlite3.Error as exc:
        raise unreadable(exc) from None
    try:
        return (searched_texts(_sqlite_searches(connection, since, until), searches)
                + _sqlite_tickets(connection, since, until, tickets))
    except sqlite3.Error as exc:
        raise unreadable(exc) from None
    finally:
        connection.close()


def _stamp(when: datetime) -> str:
    """A time as SQLAlchemy's DateTime writes it into SQLite (and so compares it)."""
    return when.strftime("%Y-%m-%d %H:%M:%S.%f")


def _period(since: datetime | None, until: datetime | None) -> tuple[list[str], list[str]]:
    """The conditions of [since, until) (None: open) on created_at, and their values."""
    bounds = [(clause, when) for clause, when in (("created_at >= ?", since), ("created_at < ?", until))
              if when is not None]
    return [clause for clause, _ in bounds], [_stamp(when) for _, when in bounds]


def _sqlite_searches(connection: sqlite3.Connection, since: datetime | None, until: datetime | None) -> list:
    clauses, values = _period(since, until)
    period = "".join(f" AND {clause}" for clause in clauses)
    return [*connection.execute(SQLITE_FAILED.format(period=period), values),
            *connection.execute(SQLITE_FOLLOWED.format(period=period), [TICKET_FILED, *values])]


def _sqlite_tickets(connection: sqlite3.Connection, since: datetime | None, until: datetime | None,
                    limit: int) -> list[GapText]:
    clauses, values = _period(since, until)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = [(subject, description, _json(deflection)) for subject, description, deflection
            in connection.execute(SQLITE_TICKETS.format(where=where), values)]
    candidates = ticket_texts(rows)
    tokens = sorted({token for token, _ in candidates if token})
    recorded: set[str] = set()
    for start in range(0, len(tokens), TOKEN_CHUNK):
        chunk = tokens[start:start + TOKEN_CHUNK]
        recorded.update(token for token, in connection.execute(
            SQLITE_TOKENS.format(marks=", ".join("?" * len(chunk))), chunk))
    return unanswered(candidates, recorded, limit)


def _json(value):
    """A JSON column's value as SQLAlchemy's JSON type reads it (None for SQL NULL); {} when it is not JSON."""
    if value is None or not isinstance(value, (str, bytes)):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return {}
