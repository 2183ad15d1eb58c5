"""`kb mail receive` (one message on standard input, for a Postfix or Exim pipe) and `kb mail fetch` (an IMAP
mailbox): e-mail in, as replies on tickets and new tickets (the work is in kb/helpdesk/mail_intake.py). They
register themselves on the `kb` group's `mail` group, which imports this module; imports happen inside the
commands, as there.

Exit status for the mail server: 0 when the message was handled or deliberately ignored, 75 (EX_TEMPFAIL) when
the settings or the database are unusable, so the message is kept and delivered again, 70 (EX_SOFTWARE) for a
fault of ours. The reason is one line on standard error."""
from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from kb.cli import DATABASE, INDEX, _settings, cli, mail_intake_hooks

EX_SOFTWARE, EX_TEMPFAIL = 70, 75
_CHUNK = 1 << 16

mail = cli.commands.get("mail")
if mail is None:
    @cli.group(name="mail")
    def mail() -> None:
        """E-mail: taking in replies and new tickets (receive, fetch)."""


def _stop(code: int, message: str) -> None:
    click.echo(f"kb mail: {message}", err=True)
    sys.exit(code)


def _intake(ctx: click.Context, index_dir: Path | None, database_url: str | None):
    """The settings, an Intake on their database and its hooks (a category from the search service, mail rendered
    by the web layer: web/mail_auto_reply.py, reached through kb.cli); exits 75 when either is unusable."""
    from kb.errors import KbError
    from kb.helpdesk.mail_intake import Intake, IntakeConfig
    from kb.secret_key import secret_key

    if not logging.getLogger().handlers:  # unconfigured: the command's own line says it (one line for the MTA)
        logging.getLogger("kb.mail").addHandler(logging.NullHandler())
    try:
        settings = _settings(ctx, index_dir=index_dir, database_url=database_url)
        config = IntakeConfig.from_settings(settings, secret_key(settings))
        hooks = mail_intake_hooks(settings, report=lambda line: click.echo(f"kb mail: {line}", err=True))
        return settings, Intake(settings.database_url, config, hooks.classify, hooks.auto_reply, hooks.notify), hooks
    except KbError as exc:
        _stop(EX_TEMPFAIL, str(exc).splitlines()[0])


@mail.command()
@INDEX
@DATABASE
@click.pass_context
def receive(ctx: click.Context, index_dir: Path | None, database_url: str | None) -> None:
    """Take in one RFC 822 message from standard input: a reply lands on its ticket, new mail to the support
    address opens one. Exit 0 when handled or ignored (the reason on standard error), 75 to be retried."""
    from kb.errors import DatabaseError

    settings, intake, hooks = _intake(ctx, index_dir, database_url)
    data = sys.stdin.buffer.read(settings.mail_max_bytes + 1)
    if len(data) > settings.mail_max_bytes:
        while sys.stdin.buffer.read(_CHUNK):  # read it all, so the mail server sees the pipe taken
            pass
        _stop(0, f"ignored: the message is larger than {settings.mail_max_bytes} bytes (setting 'mail_max_bytes')")
    try:
        outcome = intake(data)
    except DatabaseError as exc:
        _stop(EX_TEMPFAIL, f"not taken in, to be retried: {exc}")
    except Exception as exc:  # noqa: BLE001 - the mail server needs a status and one line, not a traceback
        _stop(EX_SOFTWARE, f"not taken in: {exc.__class__.__name__}: {exc}")
    finally:
        hooks.close()
    click.echo(f"kb mail: {outcome.outcome}: {outcome.reason}", err=True)


@mail.command()
@click.option("--keep", is_flag=True, help="Mark handled messages \\Seen and leave them (default: delete them).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Take in at most this many messages.")
@INDEX
@DATABASE
@click.pass_context
def fetch(ctx: click.Context, keep: bool, limit: int | None, index_dir: Path | None, database_url: str | None) -> None:
    """Take in the messages of the IMAP mailbox (the imap_* settings); each is deleted (or with --keep marked
    seen) only once it was handled and saved."""
    from kb.errors import DatabaseError, MailboxError
    from kb.helpdesk import mail_fetch

    settings, intake, hooks = _intake(ctx, index_dir, database_url)
    try:
        imap = mail_fetch.connect(settings)
    except MailboxError as exc:
        hooks.close()
        raise click.ClickException(str(exc)) from None
    try:
        report = mail_fetch.fetch(imap, intake, settings.mail_max_bytes, keep=keep, limit=limit)
    except DatabaseError as exc:
        _stop(EX_TEMPFAIL, f"stopped, the message being taken in stays in the mailbox: {exc}")
    except MailboxError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        mail_fetch.close(imap)
        hooks.close()
    for outcome in report.outcomes:
        click.echo(f"{outcome.outcome}: {outcome.reason}", err=True)
    counts = {name: report.count(name) for name in ("reply_added", "ticket_opened", "auto_replied", "ignored",
                                                   "duplicate")}
    click.echo(f"{len(report.outcomes)} message(s): " + ", ".join(f"{n} {k.replace('_', ' ')}"
                                                                   for k, n in counts.items()))
