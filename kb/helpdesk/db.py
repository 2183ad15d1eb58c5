"""Database engines, sessions and schema migrations (Alembic, run from code)."""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (ArgumentError, DBAPIError, DisconnectionError, InterfaceError, OperationalError,
                            SQLAlchemyError, TimeoutError as PoolTimeout)

from kb.errors import DatabaseError

if TYPE_CHECKING:  # (the ORM is imported when sessions are made: `kb gaps` reads with an engine alone)
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str) -> Engine:
    """An engine for `url`; a SQLite file's folder is created, and SQLite waits for locks instead of failing.

    Every pool tests a connection before handing it out (`pool_pre_ping`): one the server dropped (a restart, an
    idle timeout, a failover) is replaced instead of failing the first statement sent on it."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError(f"database_url {url!r} is not a database URL") from None
    kwargs: dict = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _private_file(Path(parsed.database))
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    try:
        engine = create_engine(parsed, **kwargs)
    except (ImportError, SQLAlchemyError) as exc:
        raise DatabaseError(f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    elif parsed.get_backend_name() == "postgresql":
        event.listen(engine, "before_cursor_execute", _holdable_parameters, retval=True)
    return engine


# PostgreSQL refuses a NUL character in any text value, even one only compared ("invalid byte sequence"); SQLite
# stores and compares it. It is the one text PostgreSQL cannot hold, and U+FFFD is Unicode's mark for a character
# that could not be kept.
NUL, NOT_HOLDABLE = "\x00", "\ufffd"


def holdable(value):
    """`value` with every NUL in its text replaced by U+FFFD: in a string, and in the strings of a dict, list or
    tuple of statement parameters (one row's or, for executemany, every row's). Anything else is returned as is."""
    if isinstance(value, str):
        return value.replace(NUL, NOT_HOLDABLE) if NUL in value else value
    if isinstance(value, dict):
        return {key: holdable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(holdable(item) for item in value)
    return value


def _holdable_parameters(_conn, _cursor, statement, parameters, _context, _executemany):
    """Every statement sent to PostgreSQL carries text it can hold: whatever a request, a mail or an import
    brings, a NUL in it is kept as U+FFFD instead of failing the statement (a 500 for the request that sent it).
    Text is matched as the other databases would match the same text; a value with a NUL never equals one
    without it, on either side."""
    return statement, holdable(parameters)


def connection_dropped(exc: BaseException) -> bool:
    """Whether `exc` is SQLAlchemy's word that the connection in use was lost (the server restarted, the network
    cut it): the connection is invalidated, and a new one may succeed."""
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def unreachable(exc: BaseException) -> bool:
    """Whether `exc` says the database cannot serve right now (a lost connection, a refused or failed connect, a
    pool with no free connection in time), as opposed to a statement it refused (a constraint, a bad query)."""
    return connection_dropped(exc) or isinstance(exc, (OperationalError, InterfaceError, DisconnectionError,
                                                       PoolTimeout))


def _private_file(path: Path) -> None:
    """Create the SQLite file readable by its owner only (it holds password hashes and tickets); an existing one
    that others may read is narrowed to 0600. SQLite gives its -wal and -shm files the database file's mode."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDONLY | os.O_CREAT, 0o600))
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError as exc:
        raise DatabaseError(f"cannot create the database file {path}: {exc.strerror}") from None


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not wait for the one writer
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def compared(name: str | None, type_: str, _parent_names: dict) -> bool:
    """Alembic's `include_name`: whether a table or index of the database is one the models describe. The
    full-text index of ticket search is not (the migration creates it): on SQLite an FTS5 table and the tables
    FTS5 keeps for it (the models cannot declare a virtual table), on PostgreSQL a generated tsvector column and
    its GIN index (no portable column type)."""
    from kb.helpdesk.ticket_search_models import FTS_INDEX, FTS_TABLE, FTS_VECTOR

    if type_ == "table":
        return not (name or "").startswith(FTS_TABLE)
    return not ((type_ == "index" and name == FTS_INDEX) or (type_ == "column" and name == FTS_VECTOR))


def _alembic_config(engine: Engine | None):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision` (all migrations by default); a current schema is left alone, and when it
    is already at the newest migration Alembic is not even loaded (most starts of a serving process: a second
    of imports saved)."""
    newest = newest_revision() if revision == "head" else None
    if newest is not None and _stamped(engine) == newest:
        return
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot migrate the database: {exc}") from None


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    command.downgrade(_alembic_config(engine), revision)


def head_revision() -> str:
    """The newest migration's revision: what `upgrade` brings a schema to."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config(None)).get_current_head()


_REVISION_LINE = re.compile(r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['\"]([^'\"]*)['\"]|None)\s*$", re.M)


def newest_revision() -> str | None:
    """The head of the migrations read from their files' `revision` and `down_revision` lines alone (no Alembic):
    the one revision no other names as its parent; None when that is not one clear answer (Alembic decides)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        found = dict((key, value) for key, value in _REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        if "revision" not in found:
            return None
        revisions.add(found["revision"])
        parents.add(found.get("down_revision") or "")
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stamped(engine: Engine) -> str | None:
    """The revision the schema is stamped with, read with plain SQL (None without one, or on any error)."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).fetchall()
    except SQLAlchemyError:
        return None
    return rows[0][0] if len(rows) == 1 else None


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def open_database(url: str, migrate: bool = True) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory for `url`, with the schema upgraded first unless `migrate` is False."""
    engine = make_engine(url)
    if migrate:
        upgrade(engine)
    return engine, session_factory(engine)
