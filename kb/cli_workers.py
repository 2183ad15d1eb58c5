"""`kb workers`: the serving process's background work alone (mail, `kb gaps`' vectors, the community index), for a
deployment whose portal runs in a multi-process WSGI server (web/wsgi.py). The work is in web/serve.py, reached
through kb.cli.run_workers. Registers itself on `cli`."""
from __future__ import annotations

from pathlib import Path

import click

from kb.cli import INDEX, _domain_errors, _say, _settings, cli, run_workers


@cli.command()
@INDEX
@click.pass_context
@_domain_errors
def workers(ctx: click.Context, index_dir: Path | None) -> None:
    """Run the background work of `kb serve` without serving pages, until SIGTERM or SIGINT (exactly one per
    deployment whose portal is served by gunicorn and web.wsgi)."""
    run_workers(_settings(ctx, index_dir=index_dir), report=_say)
