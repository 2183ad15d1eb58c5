"""The `kb` command line. Each command reads its options, loads settings, imports the one function of the package
that owns the work and calls it; domain errors (kb.errors) become click errors here and only here. Imports happen
inside the commands, so `kb --help` loads none of the heavy libraries (tests/test_cli_imports.py)."""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from kb.errors import ArticleError, KbError

PATH = click.Path(path_type=Path)
INDEX = click.option("--index", "index_dir", type=PATH, default=None, help="Index folder (default: var/index).")


def _settings(ctx: click.Context, **overrides: Any):
    from kb.config import load_settings

    return load_settings(ctx.obj.get("config"), **overrides)


def _domain_errors(func: Callable) -> Callable:
    """Turn domain errors into one clear message and a non-zero exit; no traceback for user mistakes."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ArticleError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            raise click.ClickException(f"{exc}; nothing was built and the previous index is unchanged") from None
        except KbError as exc:
            raise click.ClickException(str(exc)) from None
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", type=PATH, default=None, help="TOML config file (default: kb.toml if present, or $KB_CONFIG).")
@click.version_option(package_name="kb")
@click.pass_context
def cli(ctx: click.Context, config: Path | None) -> None:
    """kb: a self-service knowledge base with semantic search."""
    ctx.ensure_object(dict)
    ctx.obj["config"] = config


@cli.command()
@click.option("--articles", "articles_dir", type=PATH, default=None, help="Articles folder (default: articles).")
@click.option("--strict", is_flag=True, help="Also report warnings (e.g. unknown front-matter keys) and fail on them.")
@click.option("--quality", is_flag=True,
              help="Also build a temporary index and fail when a golden query (queries.yml) loses its article.")
@click.pass_context
@_domain_errors
def check(ctx: click.Context, articles_dir: Path | None, strict: bool, quality: bool) -> None:
    """Validate every article and report all problems as path:line: message."""
    from kb.check import load_help_center

    settings = _settings(ctx, articles_dir=articles_dir)
    center = load_help_center(settings.articles_dir, settings, strict=strict)
    for problem in center.problems:
        click.echo(str(problem))
    errors, warnings = len(center.errors), len(center.warnings)
    summary = (f"{len(center.articles)} article(s) checked in {settings.articles_dir}: "
               f"{errors} error(s), {warnings} warning(s)")
    click.echo(summary, err=True)
    if errors or (strict and warnings):
        ctx.exit(1)
    if quality:
        from indexer.build import build_index
        from search.golden import check_quality

        report = check_quality(settings, center.golden, build_index)
        for line in report.failures():
            click.echo(line)
        click.echo(report.summary(), err=True)
        if not report.passed:
            ctx.exit(1)


@cli.command()
@click.argument("title")
@click.option("--category", required=True, help="Category id from categories.yml.")
@click.option("--lang", default=None, help="Language code (default: the default_lang setting).")
@click.option("--articles", "articles_dir", type=PATH, default=None, help="Articles folder (default: articles).")
@click.pass_context
@_domain_errors
def new(ctx: click.Context, title: str, category: str, lang: str | None, articles_dir: Path | None) -> None:
    """Write a draft article skeleton with a unique id and print its path."""
    from kb.scaffold import new_article

    settings = _settings(ctx, articles_dir=articles_dir)
    click.echo(str(new_article(settings, title, category, lang)))


@cli.command(name="install-hook")
@click.option("--articles", "articles_dir", type=PATH, default=None, help="Articles folder (default: articles).")
@click.option("--strict", is_flag=True, help="Fail commits on warnings too.")
@click.option("--force", is_flag=True, help="Replace a pre-commit hook kb did not write.")
@click.pass_context
@_domain_errors
def install_hook(ctx: click.Context, articles_dir: Path | None, strict: bool, force: bool) -> None:
    """Run `kb check` as the git pre-commit hook of the articles' repository."""
    from kb.hooks import install_hook as install

    settings = _settings(ctx, articles_dir=articles_dir)
    click.echo(f"installed {install(settings.articles_dir, force=force, strict=strict)}")


@cli.command()
@click.option("--articles", "articles_dir", type=PATH, default=None, help="Articles folder (default: articles).")
@INDEX
@click.pass_context
@_domain_errors
def build(ctx: click.Context, articles_dir: Path | None, index_dir: Path | None) -> None:
    """Check the articles, then compile the keyword and vector indexes."""
    from indexer.build import build_index
    from indexer.query_models import prepare_query_models

    settings = _settings(ctx, articles_dir=articles_dir, index_dir=index_dir)
    try:
        report = build_index(settings)
    except KeyboardInterrupt:
        click.echo("build interrupted; the previous index is unchanged", err=True)
        ctx.exit(130)
    for warning in report.warnings:
        click.echo(str(warning), err=True)
    click.echo(f"built {report.articles} article(s), {report.passages} passage(s) "
               f"({report.embedded} embedded, {report.reused} reused), {report.drafts} draft(s) skipped, "
               f"in {report.seconds:.1f} s -> {settings.index_dir}")
    try:  # what the serving processes will load, made ready now (a Ctrl-C here leaves it to them)
        for warning in prepare_query_models(settings):
            click.echo(f"warning: {warning}", err=True)
    except KeyboardInterrupt:
        ctx.exit(130)
    for audience, fit in report.fusion.items():
        if fit:
            click.echo(f"fusion fitted on {fit['searches']} held-out searches ({audience}): keyword weight "
                       f"{fit['keyword_weight']}, category weight {fit['category_weight']}, MRR {fit['held_out_mrr']} "
                       f"(configured {fit['configured_mrr']}, vectors only {fit['vector_mrr']})"
                       + (f"; category prior better for {fit['prior_wins']}, worse for {fit['prior_losses']} "
                          f"(sign test p {fit['prior_p']})" if "prior_p" in fit else ""))


@cli.command()
@click.argument("query", required=False)
@INDEX
@click.option("-k", "k", type=click.IntRange(1, 100), default=None, help="Number of results (default: 10).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--batch", type=click.File("r", encoding="utf-8"), default=None,
              help="Read one query per line from FILE ('-' for stdin); with --json writes one JSON object per line.")
@click.option("--audience", type=click.Choice(["public", "internal"]), default="public", show_default=True,
              help="'internal' also returns agents-only articles.")
@click.option("--explain", is_flag=True, help="Show each result's score parts (keyword, vector, category, final).")
@click.pass_context
@_domain_errors
def search(ctx: click.Context, query: str | None, index_dir: Path | None, k: int | None, as_json: bool,
           batch, audience: str, explain: bool) -> None:
    """Search the index for QUERY (or for each line of --batch FILE)."""
    if (query is None) == (batch is None):
        raise click.UsageError("give either a QUERY or --batch FILE")
    from search.batch import answer_all, format_response

    settings = _settings(ctx, index_dir=index_dir)
    queries = [query] if batch is None else [line.rstrip("\n") for line in batch if line.strip()]
    for response in answer_all(settings, queries, k=k, audience=audience):
        if as_json:
            click.echo(json.dumps(response.to_dict(), ensure_ascii=False))
            continue
        for line in format_response(response, explain):
            click.echo(line)


@cli.command(name="eval")
@click.argument("file", type=PATH)
@INDEX
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
@_domain_errors
def eval_command(ctx: click.Context, file: Path, index_dir: Path | None, as_json: bool) -> None:
    """Score the ranking on FILE: JSONL of {"query": ..., "expected": "<article id>" | null}."""
    from search.evaluate import evaluate_file, format_table

    result = evaluate_file(_settings(ctx, index_dir=index_dir), file)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        for line in format_table(result):
            click.echo(line)


@cli.command()
@INDEX
@click.option("--host", default=None, help="Address to listen on (default: 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default: 8000).")
@click.option("--watch", is_flag=True, help="Preview: rebuild when an article changes; open pages reload themselves.")
@click.option("--drafts", is_flag=True, help="With --watch: show draft articles too (built into a separate preview "
                                             "index, never the published one).")
@click.option("--articles", "articles_dir", type=PATH, default=None, help="Articles folder to watch (default: articles).")
@click.pass_context
@_domain_errors
def serve(ctx: click.Context, index_dir: Path | None, host: str | None, port: int | None, watch: bool,
          drafts: bool, articles_dir: Path | None) -> None:
    """Serve the help portal with a production WSGI server; a newly built index is picked up without a restart."""
    if drafts and not watch:
        raise click.UsageError("--drafts is for previews: use it with --watch")
    settings = _settings(ctx, index_dir=index_dir, host=host, port=port, articles_dir=articles_dir)
    if watch:
        from indexer.watch import start_watching

        settings = start_watching(settings, include_drafts=drafts, report=_say).settings
    from web.serve import serve_portal

    serve_portal(settings, preview=watch, report=_say)


def run_workers(settings, report: Callable[[str], None]) -> None:
    """`kb workers`' work (kb/cli_workers.py) in web/serve.py, which only this module may import."""
    from web.serve import run_workers as run

    run(settings, report=report)


def _say(message: str) -> None:
    """A progress message on standard error (standard output is for results)."""
    click.echo(message, err=True)


def _database_url(ctx: click.Context, database_url: str | None) -> str:
    """The --database option, or else the database_url setting."""
    return _settings(ctx, database_url=database_url).database_url


DATABASE = click.option("--database", "database_url", default=None, metavar="URL",
                        help="SQLAlchemy database URL (default: the database_url setting).")


@cli.group()
def db() -> None:
    """The portal's database (accounts, tickets, votes)."""


@db.command()
@DATABASE
@click.pass_context
@_domain_errors
def upgrade(ctx: click.Context, database_url: str | None) -> None:
    """Create or migrate the database schema to the latest version."""
    from kb.helpdesk.operations import migrate

    revision, shown_url = migrate(_database_url(ctx, database_url))
    click.echo(f"database at revision {revision}: {shown_url}")


def gaps_of_index(settings, since, limit: int):
    """`kb gaps`' work (kb/cli_gaps.py) in search/gaps.py, which only this module may import: a GapRun."""
    from search.gaps import gaps_of_index as run

    return run(settings, since, limit=limit)


def mail_intake_hooks(settings, report: Callable[[str], None]):
    """What `kb mail receive`/`fetch` (kb/cli_mail_in.py) need from the search and web layers, which only this
    module may import: web/mail_auto_reply.py's IntakeHooks."""
    from web.mail_auto_reply import IntakeHooks

    return IntakeHooks(settings, report)

@cli.group()
def org() -> None:
    """Customer organisations."""


@org.command(name="add")
@click.argument("name")
@DATABASE
@click.pass_context
@_domain_errors
def org_add(ctx: click.Context, name: str, database_url: str | None) -> None:
    """Create the organisation NAME."""
    from kb.helpdesk.operations import create_organisation

    click.echo(f"organisation {create_organisation(_database_url(ctx, database_url), name)!r} created")


def ACCOUNT_OPTIONS(command: Callable) -> Callable:
    """--name, --password-stdin and --database, as every account command takes them."""
    command = DATABASE(command)
    command = click.option("--password-stdin", is_flag=True,
                           help="Read the password from standard input instead of a prompt.")(command)
    return click.option("--name", default="", help="Display name.")(command)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@cli.group()
def user() -> None:
    """Customer accounts."""


@user.command(name="add")
@click.argument("email")
@click.option("--org", "organisation", required=True, help="Name of the user's organisation.")
@click.option("--role", type=click.Choice(["member", "manager"]), default="member", show_default=True,
              help="member: sees their own tickets; manager: sees all of the organisation's tickets.")
@ACCOUNT_OPTIONS
@click.pass_context
@_domain_errors
def user_add(ctx: click.Context, email: str, organisation: str, role: str, name: str, password_stdin: bool,
             database_url: str | None) -> None:
    """Create a customer account EMAIL in an organisation."""
    from kb.helpdesk.operations import create_user

    password = _password(password_stdin)
    created = create_user(_database_url(ctx, database_url), email, password, organisation, role, name)
    click.echo(f"user {created.email} ({created.role}) created in {created.organisation!r}")


@cli.group()
def agent() -> None:
    """Staff accounts of the agent desk (agents and admins)."""


@agent.command(name="add")
@click.argument("email")
@click.option("--role", type=click.Choice(["agent", "admin", "editor"]), default="agent", show_default=True,
              help="agent: works the desk; admin: also manages agents and organisations and reads insights; "
                   "editor: reads insights and content gaps, works no tickets.")
@click.option("--group", default="", help="The agent group whose tickets this agent works (see the routing setting).")
@ACCOUNT_OPTIONS
@click.pass_context
@_domain_errors
def agent_add(ctx: click.Context, email: str, role: str, group: str, name: str, password_stdin: bool,
              database_url: str | None) -> None:
    """Create a staff account EMAIL (in no customer organisation)."""
    from kb.helpdesk.operations import create_staff

    password = _password(password_stdin)
    created = create_staff(_database_url(ctx, database_url), email, password, role, group, name)
    click.echo(f"{created.role} {created.email} created" + (f" in group {group!r}" if group else ""))


@cli.command(name="export-labels")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-", show_default=True,
              help="JSONL file to write ('-': standard output).")
@DATABASE
@click.pass_context
@_domain_errors
def export_labels(ctx: click.Context, output, database_url: str | None) -> None:
    """Write the agents' category corrections as JSONL: {"ref", "text", "predicted", "original", "corrected", "at"}."""
    from kb.helpdesk.operations import export_category_labels

    count = export_category_labels(_database_url(ctx, database_url), output)
    click.echo(f"{count} label(s) written", err=True)


@cli.command(name="demo-seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@DATABASE
@click.pass_context
@_domain_errors
def demo_seed(ctx: click.Context, if_empty: bool, database_url: str | None) -> None:
    """Create a demo organisation with a manager and a member, a demo agent and admin; print their passwords."""
    from kb.helpdesk.operations import DEMO_ORG, seed_demo

    result = seed_demo(_database_url(ctx, database_url), if_empty=if_empty)
    if if_empty and not result.created:
        click.echo("the database already has users; no demo accounts added", err=True)
        return
    click.echo(f"demo organisation {DEMO_ORG!r} {'created' if result.created else 'already present'}; sign in with:")
    for email, role, password in result.users:
        click.echo(f"  {email:<24} {password:<20} ({role})")


from kb import cli_drafts  # noqa: E402,F401  (its commands register themselves on `cli`)
from kb import cli_mail  # noqa: E402,F401  (`kb mail send`, `kb mail status`; creates the `mail` group)
from kb import cli_mail_in  # noqa: E402,F401  (`kb mail receive`, `kb mail fetch`)
from kb import cli_accounts  # noqa: E402,F401  (`kb org domain`, registered on `org`)
from kb import cli_tokens  # noqa: E402,F401  (`kb token`)
from kb import cli_gaps  # noqa: E402,F401  (`kb gaps`)
from kb import cli_sla  # noqa: E402,F401  (`kb sla refresh`, `kb sla report`)
from kb import cli_tickets  # noqa: E402,F401  (`kb tickets reindex`)
from kb import cli_import  # noqa: E402,F401  (`kb import`)
from kb import cli_community  # noqa: E402,F401  (`kb community draft`)
from kb import cli_workers  # noqa: E402,F401  (`kb workers`)


def main() -> None:
    cli(obj={})


if __name__ == "__main__":
    sys.exit(main())
