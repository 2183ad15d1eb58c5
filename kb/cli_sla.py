"""`kb sla refresh` and `kb sla report`: ticket priorities and SLA clocks (the work is in kb/helpdesk/ticket_sla.py).
Registers itself on `cli`; kb/cli.py imports this module."""
from __future__ import annotations

import json

import click

from kb.cli import DATABASE, _domain_errors, _settings, cli


@cli.group()
def sla() -> None:
    """Ticket priorities and SLA clocks."""


@sla.command(name="refresh")
@DATABASE
@click.pass_context
@_domain_errors
def sla_refresh(ctx: click.Context, database_url: str | None) -> None:
    """Compute every ticket's SLA due times again from the current settings (after changing `sla_*`,
    `business_hours`, or for tickets filed before priorities existed)."""
    from kb.helpdesk.db import open_database
    from kb.helpdesk.ticket_sla import SlaRules, refresh_clocks

    settings = _settings(ctx, database_url=database_url)
    engine, sessions = open_database(settings.database_url)
    try:
        with sessions() as db:
            count = refresh_clocks(db, SlaRules.from_settings(settings))
    finally:
        engine.dispose()
    click.echo(f"SLA due times computed for {count} ticket(s)")


@sla.command(name="report")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per predicted priority.")
@DATABASE
@click.pass_context
@_domain_errors
def sla_report(ctx: click.Context, as_json: bool, database_url: str | None) -> None:
    """How often agents changed the predicted priority, per predicted priority."""
    from kb.helpdesk.db import open_database
    from kb.helpdesk.ticket_sla import priority_report

    settings = _settings(ctx, database_url=database_url)
    engine, sessions = open_database(settings.database_url, migrate=False)
    try:
        with sessions() as db:
            rows = priority_report(db)
    finally:
        engine.dispose()
    for row in rows:
        if as_json:
            click.echo(json.dumps(row, sort_keys=True))
        else:
            share = row["changed"] / row["tickets"] if row["tickets"] else 0.0
            final = ", ".join(f"{p} {n}" for p, n in sorted(row["final"].items()))
            click.echo(f"predicted {row['predicted']}: {row['tickets']} ticket(s), changed {row['changed']} "
                       f"({share:.0%}); now {final}")
