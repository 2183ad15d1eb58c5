"""Alembic environment: kb runs migrations from code (kb.helpdesk.db.upgrade) with its own engine.

On SQLite the migrations run with foreign keys off, and every reference is checked before they commit (see
`_references_hold`). On PostgreSQL the upgrade holds a transaction-level advisory lock, taken before the schema's revision is read: nodes
started at once on an old schema upgrade it one after the other, and the later ones find it current."""
from __future__ import annotations

from alembic import context
from sqlalchemy import text

from kb.errors import DatabaseError
from kb.helpdesk.db import compared
from kb.helpdesk.models import Base

config = context.config
target_metadata = Base.metadata
UPGRADE_LOCK = 0x6B62_6462  # "kbdb": the advisory lock key every kb upgrade of one PostgreSQL database shares


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from kb.config import load_settings
        from kb.helpdesk.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or load_settings().database_url)
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # (a PRAGMA that SQLite ignores inside a transaction: set before the migrations' one begins)
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                              compare_type=True, include_name=compared)
            with context.begin_transaction():
                if connection.dialect.name == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK})
                context.run_migrations()
                if sqlite:
                    _references_hold(connection)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def _references_hold(connection) -> None:
    """SQLite changes a table's columns by building a new table and dropping the old one (Alembic's batch mode),
    which its foreign keys would refuse while other tables' rows refer to the old one (a downgrade of a database
    with tickets failed so). As SQLite's own procedure for schema changes has it, the migrations run with foreign
    keys off, and every reference is checked afterwards: a row referring to a missing one is an error naming it."""
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        table, row, parent, _ = broken[0]
        raise DatabaseError(f"the database holds {len(broken)} row(s) referring to missing rows (first: row {row} "
                            f"of table {table}, referring to table {parent}); correct them and migrate again")


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use `kb db upgrade`")
run_migrations_online()
