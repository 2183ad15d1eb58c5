"""The `kb` commands fed by what the help desk recorded: the editors' `kb draft-from-ticket` and `kb
suggest-questions` (the work is in kb/drafts.py), and `kb analytics purge`. They register themselves on the `kb` group, which imports this module; imports happen inside the
commands, as there."""
from __future__ import annotations

from pathlib import Path

import click

from kb.cli import DATABASE, PATH, _database_url, _domain_errors, _settings, cli

ARTICLES = click.option("--articles-dir", "--articles", "articles_dir", type=PATH, default=None,
                        help="Articles folder (default: articles).")


@cli.command(name="draft-from-ticket")
@click.argument("ref")
@click.option("--lang", default=None, help="The draft's language (default: told from the ticket's letters, "
                                           "else the default_lang setting).")
@ARTICLES
@DATABASE
@click.pass_context
@_domain_errors
def draft_from_ticket(ctx: click.Context, ref: str, lang: str | None, articles_dir: Path | None,
                      database_url: str | None) -> None:
    """Write a draft article from ticket REF (its customer's phrasings as questions, the agents' replies as
    steps) and print its path."""
    from kb.drafts import write_draft

    settings = _settings(ctx, articles_dir=articles_dir)
    draft = write_draft(settings, _database_url(ctx, database_url), ref, lang)
    for note in draft.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(str(draft.path))


@cli.command(name="suggest-questions")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Only what happened on or after this day (UTC).")
@click.option("--min-count", type=click.IntRange(1), default=1, show_default=True,
              help="Propose a phrasing only when it ended with the article at least this many times.")
@click.option("--max-per-article", type=click.IntRange(1), default=5, show_default=True,
              help="At most this many new questions per article, the most frequent first.")
@ARTICLES
@DATABASE
@click.pass_context
@_domain_errors
def suggest_questions(ctx: click.Context, since, min_count: int, max_per_article: int, articles_dir: Path | None,
                      database_url: str | None) -> None:
    """Print a patch adding, as new `questions`, the phrasings that ended in "This solved my problem" with an
    article or in a resolved ticket an agent answered with its link. Nothing is changed."""
    from kb.drafts import suggest_questions as propose

    settings = _settings(ctx, articles_dir=articles_dir)
    found = propose(settings, _database_url(ctx, database_url), since, min_count, max_per_article)
    for path in found.skipped:
        click.echo(f"{path}: its front matter cannot be patched safely; add the questions by hand", err=True)
    if not found.proposals:
        click.echo("no proposals", err=True)
        return
    for proposal in found.proposals:
        counted = ", ".join(f"{text!r} ({count})" for text, count in proposal.questions)
        click.echo(f"{proposal.article_id}: {counted}", err=True)
    click.echo(found.diff, nl=False)


@cli.group()
def analytics() -> None:
    """What customers did, recorded for insights (searches, clicks, effort answers, views, deflections)."""


@analytics.command(name="purge")
@click.option("--before", "before", required=True, type=click.DateTime(["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Delete what was recorded before this day (UTC).")
@DATABASE
@click.pass_context
@_domain_errors
def analytics_purge(ctx: click.Context, before, database_url: str | None) -> None:
    """Delete recorded events older than a day (the analytics_retention_days setting does it daily)."""
    from kb.helpdesk.operations import purge_analytics

    removed = purge_analytics(_database_url(ctx, database_url), before)
    click.echo(", ".join(f"{count} {table}" for table, count in removed.items()) + f" deleted (before {before:%Y-%m-%d})")
