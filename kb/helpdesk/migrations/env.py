"""Alembic environment: kb runs migrations from code (kb.helpdesk.db.upgrade) with its own engine."""
from __future__ import annotations

from alembic import context

from kb.helpdesk.db import compared
from kb.helpdesk.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from kb.config import load_settings
        from kb.helpdesk.db import make_engine

        engine = make_engine(config.get_main_option("sqlalchemy.url") or load_settings().database_url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                          compare_type=True, include_name=compared)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; use `kb db upgrade`")
run_migrations_online()
