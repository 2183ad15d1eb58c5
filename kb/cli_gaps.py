"""`kb gaps`: what the help center is missing, from what customers failed to find (the work is in search/gaps.py,
reached through kb.cli.gaps_of_index). Registers itself on `cli`, which imports this module."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

from kb.cli import DATABASE, INDEX, _domain_errors, _settings, cli, gaps_of_index

# What `kb gaps` reads by default: kb/helpdesk/gap_sources.py's GAPS_DAYS, the period the serving process keeps
# warm (not imported from there, so that `kb --help` imports no database library; tests/test_gap_upkeep.py checks).
GAPS_DAYS = 30


@cli.command()
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help=f"Read what was recorded from this day on (UTC; default: the last {GAPS_DAYS} days).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Groups to print.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per group per line.")
@click.option("--verbose", "-v", is_flag=True,
              help="Also say on stderr how many texts were embedded now and how many came from the vector cache "
                   "(with --json as one JSON object).")
@INDEX
@DATABASE
@click.pass_context
@_domain_errors
def gaps(ctx: click.Context, since, limit: int, as_json: bool, verbose: bool, index_dir: Path | None,
         database_url: str | None) -> None:
    """Failed and ticket-ending searches and unanswered tickets, grouped by meaning, biggest gaps first."""
    settings = _settings(ctx, index_dir=index_dir, database_url=database_url)
    since = since or (datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=GAPS_DAYS))  # naive UTC
    run = gaps_of_index(settings, since, limit=limit)
    for line in run.lines(since, as_json):
        click.echo(line)
    if verbose:
        summary = run.summary()
        click.echo(json.dumps(summary) if as_json else
                   f"{summary['texts']} text(s): {summary['embedded']} embedded now, {summary['cached']} from the "
                   f"vector cache in {settings.model_cache_dir}", err=True)
