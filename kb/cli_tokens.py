"""`kb token create|list|revoke`: personal API tokens for /api/v1 (the work is in kb/helpdesk/api_tokens.py).
Registers itself on `cli`, which imports this module."""
from __future__ import annotations

import click

from kb.cli import DATABASE, _database_url, _domain_errors, cli


@cli.group()
def token() -> None:
    """Personal API tokens of agents and admins (for /api/v1)."""


@token.command(name="create")
@click.argument("email")
@click.option("--scope", type=click.Choice(["read", "write"]), required=True,
              help="read: list and read tickets and articles; write: also reply and change status.")
@click.option("--name", default="", help="What the token is for, e.g. \"integration: phone system\".")
@DATABASE
@click.pass_context
@_domain_errors
def token_create(ctx: click.Context, email: str, scope: str, name: str, database_url: str | None) -> None:
    """Create a token for the agent or admin EMAIL and print it, once: it cannot be shown again."""
    from kb.helpdesk.api_tokens import issue_token

    info, secret = issue_token(_database_url(ctx, database_url), email, scope, name)
    click.echo(secret)
    click.echo(f"token {info.id} ({info.prefix}, {info.scope}) for {info.email}: keep it now, it is not shown "
               "again", err=True)


@token.command(name="list")
@click.argument("email", required=False)
@DATABASE
@click.pass_context
@_domain_errors
def token_list(ctx: click.Context, email: str | None, database_url: str | None) -> None:
    """List tokens (of EMAIL only, when given): id, prefix, scope, owner, name, created, last used, state."""
    from kb.helpdesk.api_tokens import list_tokens

    for info in list_tokens(_database_url(ctx, database_url), email):
        used = info.last_used_at.isoformat(timespec="seconds") if info.last_used_at else "never"
        state = f"revoked {info.revoked_at.isoformat(timespec='seconds')}" if info.revoked_at else "active"
        click.echo(f"{info.id}\t{info.prefix}\t{info.scope}\t{info.email}\t{info.name or '-'}\t"
                   f"created {info.created_at.isoformat(timespec='seconds')}\tused {used}\t{state}")


@token.command(name="revoke")
@click.argument("token_id", type=int, metavar="ID")
@DATABASE
@click.pass_context
@_domain_errors
def token_revoke(ctx: click.Context, token_id: int, database_url: str | None) -> None:
    """Revoke token ID: requests with it are refused from now on."""
    from kb.helpdesk.api_tokens import revoke

    info = revoke(_database_url(ctx, database_url), token_id)
    click.echo(f"token {info.id} ({info.prefix}) of {info.email} is revoked")
