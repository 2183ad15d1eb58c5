"""The `kb mail` commands: deliver the outbox (`kb mail send`) and count it (`kb mail status`). They register
themselves on the `kb` group, which imports this module; imports happen inside the commands, as there."""
from __future__ import annotations

import click

from kb.cli import DATABASE, _database_url, _domain_errors, _settings, cli

POLL_SECONDS = 10.0  # how often `kb mail send` without --once looks for due messages


@cli.group()
def mail() -> None:
    """E-mail kb writes into the outbox (notifications) and its delivery over SMTP."""


@mail.command(name="send")
@click.option("--once", is_flag=True, help="Send what is due now, then exit (default: keep sending until stopped).")
@click.option("--limit", type=click.IntRange(1), default=None, help="With --once: try at most this many messages.")
@DATABASE
@click.pass_context
@_domain_errors
def mail_send(ctx: click.Context, once: bool, limit: int | None, database_url: str | None) -> None:
    """Deliver due messages over the smtp_host server (safe beside other senders: each message is taken by one).
    SIGTERM or Ctrl-C stops it once the message in hand is sent."""
    import signal
    import threading

    from kb.helpdesk.db import open_database
    from kb.helpdesk.mail_sender import SmtpConfig, send_due

    settings = _settings(ctx, database_url=database_url)
    if not settings.smtp_host:
        raise click.ClickException("setting 'smtp_host' is empty: mail waits in the outbox until it names the SMTP "
                                   "server")
    engine, sessions = open_database(_database_url(ctx, database_url))
    config, stop = SmtpConfig.from_settings(settings), threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    try:
        while True:
            report = send_due(sessions, config, limit=limit if once else None, stop=stop)
            if once or report.sent or report.failed or report.retried or report.stopped:
                click.echo(report.summary(), err=not once)
            if once or stop.wait(POLL_SECONDS):
                break
    finally:
        engine.dispose()


@mail.command(name="status")
@DATABASE
@click.pass_context
@_domain_errors
def mail_status(ctx: click.Context, database_url: str | None) -> None:
    """How many messages are pending, being sent, sent and failed."""
    from kb.helpdesk.db import open_database
    from kb.helpdesk.mail_sender import counts, oldest_due
    from kb.helpdesk.models import utcnow

    engine, sessions = open_database(_database_url(ctx, database_url))
    try:
        for state, count in counts(sessions).items():
            click.echo(f"{state:<8} {count}")
        oldest = oldest_due(sessions)
        if oldest is not None:
            click.echo(f"the oldest pending message was written {int((utcnow() - oldest).total_seconds() // 60)} "
                       f"minute(s) ago")
    finally:
        engine.dispose()
