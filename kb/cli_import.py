"""`kb import FORMAT SOURCE`: articles from a Jekyll, Hugo or MkDocs site (the work is in kb/importers/).
Registers itself on `kb`, which imports this module."""
from __future__ import annotations

import json
from pathlib import Path

import click

from kb.cli import PATH, _domain_errors, _settings, cli
from kb.importers import FORMATS



@cli.command(name="import")
@click.argument("format_name", metavar="FORMAT", type=click.Choice(FORMATS))
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.option("--articles", "articles_dir", type=PATH, default=None, help="Articles folder (default: articles).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (for CI).")
@click.pass_context
@_domain_errors
def import_site(ctx: click.Context, format_name: str, source: Path, articles_dir: Path | None, dry_run: bool,
                as_json: bool) -> None:
    """Import the FORMAT site in SOURCE into the articles folder; running it again updates the same articles."""
    from kb.importers import run_import

    settings = _settings(ctx, articles_dir=articles_dir)
    summary = run_import(format_name, source, settings.articles_dir, dry_run=dry_run,
                         default_lang=settings.default_lang)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2, sort_keys=True, ensure_ascii=False))
        return
    for notice in summary.notices:
        click.echo(str(notice))
    for skipped in summary.skipped:
        click.echo(f"skipped {skipped['path']}: {skipped['reason']}")
    verb = "would import" if dry_run else "imported"
    click.echo(f"{verb} {len(summary.imported)} new, {len(summary.updated)} updated, {len(summary.unchanged)} "
               f"unchanged, {len(summary.skipped)} skipped; {summary.links_rewritten} link(s) rewritten, "
               f"{summary.links_broken} broken; {summary.assets_copied} file(s) copied; "
               f"{len(summary.categories_added)} categor(ies) added -> {settings.articles_dir}")
