"""`kb org domain add`: an organisation's e-mail domains, and whether people there may sign up themselves (the
work is in kb/helpdesk/org_domains.py). Registers itself on the `kb org` group, which imports this module."""
from __future__ import annotations

import click

from kb.cli import DATABASE, _database_url, _domain_errors, org


@org.group()
def domain() -> None:
    """An organisation's e-mail domains."""


@domain.command(name="add")
@click.argument("organisation")
@click.argument("domain_name", metavar="DOMAIN")
@click.option("--signup", is_flag=True, help="Anyone with a confirmed address at DOMAIN may create an account "
                                             "in ORGANISATION.")
@DATABASE
@click.pass_context
@_domain_errors
def domain_add(ctx: click.Context, organisation: str, domain_name: str, signup: bool,
               database_url: str | None) -> None:
    """Give ORGANISATION the e-mail domain DOMAIN (again: sets --signup as given)."""
    from kb.helpdesk.org_domains import add_domain_to

    name, stored, open_ = add_domain_to(_database_url(ctx, database_url), organisation, domain_name, signup)
    click.echo(f"domain {stored} belongs to {name!r}; sign-up from it is {'open' if open_ else 'closed'}")
