"""`kb gaps`: what customers searched for and did not find, grouped by meaning, with the closest article.

Registered on the `kb` group by kb/cli.py; like its commands, it imports the heavy modules inside the command.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import click

from kb.errors import KbError

DEFAULT_DAYS = 30
# Distinct texts read and grouped: the most frequent failed searches, then unanswered tickets. Embedding them is
# most of the command's time; with search frequencies falling off as they do, the first few hundred hold most
# of the failed searches (bench/gaps.py reports the share).
SEARCH_TEXTS, TICKET_TEXTS = 300, 100
EXAMPLES_SHOWN = 3


@click.command()
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help=f"Read what was recorded from this day on (UTC; default: the last {DEFAULT_DAYS} days).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Groups to print.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per group per line.")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
              help="Index folder (default: var/index).")
@click.option("--database", "database_url", default=None, metavar="URL",
              help="SQLAlchemy database URL (default: the database_url setting).")
@click.pass_context
def gaps(ctx: click.Context, since: datetime | None, limit: int, as_json: bool, index_dir: Path | None,
         database_url: str | None) -> None:
    """Failed and ticket-ending searches and unanswered tickets, grouped by meaning, biggest gaps first."""
    from kb.config import load_settings
    from kb.helpdesk.db import open_database
    from kb.helpdesk.gap_sources import failed_searches, unanswered_tickets
    from kb.helpdesk.models import utcnow
    from search.gaps import find_gaps
    from search.service import SearchService
    from search.vector_cache import VectorCache

    try:
        settings = load_settings((ctx.obj or {}).get("config"), index_dir=index_dir, database_url=database_url)
        since = since or (utcnow() - timedelta(days=DEFAULT_DAYS))
        _, sessions = open_database(settings.database_url)
        with sessions() as db:
            texts = (failed_searches(db, since, limit=SEARCH_TEXTS)
                     + unanswered_tickets(db, since, limit=TICKET_TEXTS))
        service = SearchService.load(settings.index_dir, settings)
        cache = VectorCache(settings.model_cache_dir, service.manifest.model_name, service.manifest.model_dimension)
        try:
            found = find_gaps(service, texts, limit=limit, cache=cache)
        finally:
            service.close()
        cache.save()
    except KbError as exc:
        raise click.ClickException(str(exc)) from None
    for line in (json.dumps(g.to_dict(), ensure_ascii=False) for g in found) if as_json else table(found, since):
        click.echo(line)


def table(found, since: datetime) -> list[str]:
    """The groups as a table for a terminal: priority, size, closest article and its confidence, examples."""
    if not found:
        return [f"no failed searches or unanswered tickets since {since:%Y-%m-%d}"]
    lines = [f"{'#':>3}  {'score':>8}  {'size':>6}  {'confidence, closest article':<40}  examples"]
    for rank, gap in enumerate(found, start=1):
        closest = f"{gap.closest['score']:.2f} {gap.closest['id']}" if gap.closest else "-"
        examples = " | ".join(gap.examples[:EXAMPLES_SHOWN])
        lines.append(f"{rank:>3}  {gap.score:>8.1f}  {gap.size:>6}  {closest:<40.40}  {examples}")
    return lines
