"""The operator's work on the portal's database, one call per `kb` command: each opens the database (its schema
brought up to date first), does its work in one transaction and returns plain values to report."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from kb.helpdesk.accounts import DEMO_ORG, SeedResult, add_organisation, add_staff, add_user, demo_seed
from kb.helpdesk.db import current_revision, open_database
from kb.helpdesk.tickets import category_labels

__all__ = ["DEMO_ORG", "Account", "create_organisation", "create_staff", "create_user", "export_category_labels",
           "migrate", "purge_analytics", "seed_demo"]


@dataclass(frozen=True)
class Account:
    email: str
    role: str
    organisation: str | None  # None for staff


def migrate(database_url: str) -> tuple[str | None, str]:
    """Create or migrate the schema to the latest version: (the revision now, the URL without its password). Its
    connections are closed after, so a process that forks next (gunicorn's master) hands none to its children."""
    engine, _ = open_database(database_url)
    try:
        return current_revision(engine), engine.url.render_as_string(hide_password=True)
    finally:
        engine.dispose()


def purge_analytics(database_url: str, before: datetime) -> dict[str, int]:
    """Delete the recorded events (searches, clicks, effort answers, views, deflections) older than `before`
    (naive UTC); how many rows each table lost."""
    from kb.helpdesk.analytics import purge

    engine, _ = open_database(database_url)
    return purge(engine, before)


def create_organisation(database_url: str, name: str) -> str:
    """Create the customer organisation `name`; returns its name as stored."""
    _, sessions = open_database(database_url)
    with sessions.begin() as session:
        return add_organisation(session, name).name


def create_user(database_url: str, email: str, password: str, organisation: str, role: str,
                name: str = "") -> Account:
    """Create a customer account in an existing organisation."""
    _, sessions = open_database(database_url)
    with sessions.begin() as session:
        created = add_user(session, email, password, organisation, role, name)
        return Account(created.email, created.role, created.organisation.name)


def create_staff(database_url: str, email: str, password: str, role: str, group: str = "",
                 name: str = "") -> Account:
    """Create an agent or admin account (in no customer organisation)."""
    _, sessions = open_database(database_url)
    with sessions.begin() as session:
        created = add_staff(session, email, password, role, group, name)
        return Account(created.email, created.role, None)


def export_category_labels(database_url: str, output: TextIO) -> int:
    """Write the agents' category corrections to `output` as JSONL, oldest first; returns how many."""
    _, sessions = open_database(database_url)
    count = 0
    with sessions() as session:
        for row in category_labels(session):
            output.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            count += 1
    return count


def seed_demo(database_url: str, if_empty: bool = False) -> SeedResult:
    """The demo organisation (DEMO_ORG) and accounts with known passwords (see accounts.demo_seed)."""
    _, sessions = open_database(database_url)
    with sessions.begin() as session:
        return demo_seed(session, if_empty=if_empty)
