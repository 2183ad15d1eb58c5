"""`kb community draft`: a draft article from a community thread (the work is in kb/drafts_community.py). Creates
the `kb community` group on `kb`, which imports this module; imports happen inside the commands, as there."""
from __future__ import annotations

from pathlib import Path

import click

from kb.cli import DATABASE, _database_url, _domain_errors, _settings, cli
from kb.cli_drafts import ARTICLES


@cli.group()
def community() -> None:
    """The community's questions and answers."""


@community.command(name="draft")
@click.argument("question_id", type=click.IntRange(1))
@click.option("--lang", default=None, help="The draft's language (default: told from the question's letters, "
                                           "else the default_lang setting).")
@ARTICLES
@DATABASE
@click.pass_context
@_domain_errors
def community_draft(ctx: click.Context, question_id: int, lang: str | None, articles_dir: Path | None,
                    database_url: str | None) -> None:
    """Write a draft article from community question QUESTION_ID (its title as the title and first question, the
    accepted, else official, else most voted answer as the steps) and print its path."""
    from kb.drafts_community import write_community_draft

    settings = _settings(ctx, articles_dir=articles_dir)
    draft = write_community_draft(settings, _database_url(ctx, database_url), question_id, lang)
    for note in draft.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(str(draft.path))
