"""Delivering the outbox over SMTP (the one module that talks to a mail server; smtplib is wrapped here).

Several senders may run at once (two `kb serve` nodes, a `kb mail send`): each takes one due message at a time
with a lease, in one conditional UPDATE that only one of them can win (PostgreSQL: the row is picked with
`FOR UPDATE SKIP LOCKED`; SQLite has one writer, and the UPDATE re-checks that the row is still due). A message
is due when it is pending and its `next_attempt_at` has come, or when it is `sending` and its lease has run out
(its sender was killed mid-send).

The message is marked sent in its own commit as soon as the server accepts it. A sender killed after the server's
"250 OK" to the message and before that commit leaves the message `sending`; once its lease runs out another
sender delivers it again, with the same Message-ID, so a receiver can tell the repeat. `SendReport.handover`
measures that window for each message sent: from the server's acceptance to the commit.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.header import Header
from email.headerregistry import UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import format_datetime
from typing import Callable

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from kb.helpdesk.mail_models import FAILED, OUTBOX_STATES, PENDING, SENDING, SENT, OutboxMessage
from kb.helpdesk.models import utcnow

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # far longer than one message takes (SMTP_TIMEOUT per server answer)
SMTP_TIMEOUT = 30.0
BACKOFF = timedelta(minutes=1)  # the pause after a first temporary failure; doubled after each further one
BACKOFF_MAX = timedelta(hours=6)
ERROR_MAX = 2000


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    security: str = "none"  # none, starttls, tls
    user: str = ""
    password: str = ""
    mail_from: str = "support@localhost"
    max_attempts: int = 8
    timeout: float = SMTP_TIMEOUT

    @classmethod
    def from_settings(cls, settings) -> "SmtpConfig":
        return cls(host=settings.smtp_host, port=settings.smtp_port, security=settings.smtp_security,
                   user=settings.smtp_user, password=settings.smtp_password, mail_from=settings.mail_from,
                   max_attempts=settings.mail_max_attempts)


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    # Per message sent: seconds from the server's acceptance to the commit that marks it sent (the window in which
    # a killed sender causes a repeat).
    handover: list[float] = field(default_factory=list)
    stopped: str = ""  # why the pass ended early (the server could not be reached), '' otherwise

    def summary(self) -> str:
        text = f"{self.sent} sent, {self.retried} to retry, {self.failed} failed"
        if self.handover:
            text += f"; marked sent {max(self.handover) * 1000:.1f} ms at most after the server accepted"
        return text + (f"; stopped: {self.stopped}" if self.stopped else "")


class TemporaryFailure(Exception):
    """The message may go through later (a 4xx answer, a lost connection)."""


class PermanentFailure(Exception):
    """The server refused this message for good (a 5xx answer to its recipient or content)."""


def _due(now: datetime):
    return or_(and_(OutboxMessage.state == PENDING, OutboxMessage.next_attempt_at <= now),
               and_(OutboxMessage.state == SENDING, OutboxMessage.lease_until < now))


def claim(sessions: sessionmaker[Session], now: datetime, lease: timedelta = LEASE) -> int | None:
    """Take the next due message for this sender until `now + lease`: its id, None when nothing is due."""
    pick = (select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
            .limit(1).with_for_update(skip_locked=True).scalar_subquery())
    with sessions.begin() as db:
        return db.scalar(update(OutboxMessage).where(OutboxMessage.id == pick, _due(now))
                         .values(state=SENDING, lease_until=now + lease, attempts=OutboxMessage.attempts + 1)
                         .returning(OutboxMessage.id))


class _MailPolicy(EmailPolicy):
    """email.policy.default, but a non-ASCII free-text header (a Cyrillic subject) is folded by email.header.Header.

    The default policy's folder (CPython without the fix of gh-144156, 3.11 among them) breaks a line between two
    encoded words and drops the space that stood there: RFC 2047 readers join adjacent encoded words, so "Принтер
    показывает" arrives as "Принтерпоказывает". Header encodes the whole text, spaces included, as a run of encoded
    words."""

    def fold(self, name: str, value) -> str:
        if self.utf8 or not isinstance(value, UnstructuredHeader) or str(value).isascii():
            return super().fold(name, value)
        encoded = Header(str(value), "utf-8", maxlinelen=self.max_line_length, header_name=name)
        return f"{name}: {encoded.encode(linesep=self.linesep)}{self.linesep}"

    def fold_binary(self, name: str, value) -> bytes:
        if self.utf8 or not isinstance(value, UnstructuredHeader) or str(value).isascii():
            return super().fold_binary(name, value)
        return self.fold(name, value).encode("ascii")


MAIL_POLICY = _MailPolicy()


def build_message(row: OutboxMessage, mail_from: str) -> EmailMessage:
    """The e-mail of one outbox row: text and HTML alternatives, its Message-ID and extra headers."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = mail_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.created_at.replace(tzinfo=timezone.utc))
    message["Message-ID"] = row.message_id
    for name, value in sorted((row.headers or {}).items()):
        message[name] = value
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    return message


def connect(config: SmtpConfig) -> smtplib.SMTP:
    """A connection to the SMTP server, protected and logged in as the settings say."""
    context = ssl.create_default_context()
    if config.security == "tls":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout, context=context)
    else:
        smtp = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
        if config.security == "starttls":
            smtp.starttls(context=context)
    if config.user:
        smtp.login(config.user, config.password)
    return smtp


def deliver(smtp: smtplib.SMTP, message: EmailMessage, sender: str, recipient: str) -> None:
    """Hand one message to the server; TemporaryFailure or PermanentFailure when it does not take it."""
    try:
        smtp.send_message(message, from_addr=sender, to_addrs=[recipient])
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        raise (PermanentFailure if code >= 500 else TemporaryFailure)(_answer(code, reply)) from None
    except smtplib.SMTPDataError as exc:  # the content refused
        raise (PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure)(
            _answer(exc.smtp_code, exc.smtp_error)) from None
    except smtplib.SMTPResponseException as exc:  # the sender refused, a login lost: the server's or ours, not the message's
        raise TemporaryFailure(_answer(exc.smtp_code, exc.smtp_error)) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"{exc.__class__.__name__}: {exc}") from None


def _answer(code: int, reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return f"{code} {text}"


def backoff(attempts: int) -> timedelta:
    """The pause before the next attempt after `attempts` failed ones: 1, 2, 4... minutes, at most 6 hours."""
    return min(BACKOFF * (2 ** max(0, attempts - 1)), BACKOFF_MAX)


def _mark_sent(sessions: sessionmaker[Session], message_id: int) -> None:
    with sessions.begin() as db:
        db.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                   .values(state=SENT, sent_at=utcnow(), lease_until=None, last_error=""))


def _mark_failed(sessions: sessionmaker[Session], row: OutboxMessage, error: str, permanent: bool,
                 max_attempts: int, now: datetime) -> str:
    """Record a failed attempt: failed for good, or pending again after a pause; the new state."""
    state = FAILED if permanent or row.attempts >= max_attempts else PENDING
    with sessions.begin() as db:
        db.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                   .values(state=state, lease_until=None, last_error=error[:ERROR_MAX],
                           next_attempt_at=now + backoff(row.attempts)))
    return state


def send_due(sessions: sessionmaker[Session], config: SmtpConfig, *, limit: int | None = None,
             now: Callable[[], datetime] = utcnow, lease: timedelta = LEASE,
             connector: Callable[[SmtpConfig], smtplib.SMTP] = connect,
             stop: threading.Event | None = None) -> SendReport:
    """Deliver due messages, one claimed at a time over one connection, until none is due or `limit` were tried.
    A connection that fails ends the pass (the message it was for is retried later); so does `stop`, once the
    message in hand is sent (a sender asked to stop leaves nothing leased)."""
    report = SendReport()
    smtp: smtplib.SMTP | None = None
    tried = 0
    try:
        while (limit is None or tried < limit) and not (stop is not None and stop.is_set()):
            claimed = claim(sessions, now(), lease)
            if claimed is None:
                break
            tried += 1
            with sessions() as db:
                row = db.get(OutboxMessage, claimed)
            try:
                message = build_message(row, config.mail_from)
                if smtp is None:
                    smtp = connector(config)
                deliver(smtp, message, config.mail_from, row.to_address)
                accepted = time.perf_counter()
                _mark_sent(sessions, row.id)
                report.handover.append(time.perf_counter() - accepted)
                report.sent += 1
            except PermanentFailure as exc:
                _mark_failed(sessions, row, str(exc), True, config.max_attempts, now())
                report.failed += 1
            except (TemporaryFailure, smtplib.SMTPException, OSError) as exc:
                state = _mark_failed(sessions, row, str(exc), False, config.max_attempts, now())
                report.failed += state == FAILED
                report.retried += state == PENDING
                if not isinstance(exc, TemporaryFailure) or smtp is None or not _alive(smtp):
                    report.stopped = str(exc)
                    break
            except ValueError as exc:  # a header the e-mail library refuses: never sendable
                _mark_failed(sessions, row, f"cannot be written as e-mail: {exc}", True, config.max_attempts, now())
                report.failed += 1
    finally:
        if smtp is not None:
            _quit(smtp)
    return report


def _alive(smtp: smtplib.SMTP) -> bool:
    try:
        return smtp.noop()[0] == 250
    except (smtplib.SMTPException, OSError):
        return False


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """How many messages are in each state."""
    with sessions() as db:
        found = dict(db.execute(select(OutboxMessage.state, func.count()).group_by(OutboxMessage.state)).all())
    return {state: int(found.get(state, 0)) for state in OUTBOX_STATES}


def oldest_due(sessions: sessionmaker[Session]) -> datetime | None:
    """When the longest-waiting pending message was written (None: nothing pending)."""
    with sessions() as db:
        return db.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.state == PENDING))
