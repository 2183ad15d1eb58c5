"""`kb tickets reindex`: the desk's ticket search rebuilt from the tickets (the work is in
kb/helpdesk/ticket_search.py). Registers itself on `cli`, which imports this module."""
from __future__ import annotations

import click

from kb.cli import DATABASE, _database_url, _domain_errors, cli


@cli.group()
def tickets() -> None:
    """The tickets in the portal's database."""


@tickets.command()
@DATABASE
@click.pass_context
@_domain_errors
def reindex(ctx: click.Context, database_url: str | None) -> None:
    """Rebuild the desk's ticket search from every ticket (after an upgrade, or to repair it)."""
    from kb.helpdesk.ticket_search import reindex_database

    count = reindex_database(_database_url(ctx, database_url))
    click.echo(f"{count} ticket{'s' if count != 1 else ''} indexed for search")
