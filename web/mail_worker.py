"""The serving process's mail work (`kb serve`): one background thread that reminds customers whose ticket waits
on them, resolves tickets that waited `auto_close_days`, and, with `mail_sender = on` and `smtp_host` set,
delivers the outbox (kb/helpdesk/mail_sender.py). Several processes may run it at once: a ticket is closed,
and a reminder written, by one of them only."""
from __future__ import annotations

import atexit
import logging
import threading
from dataclasses import dataclass
from datetime import datetime

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.mail_sender import SendReport, SmtpConfig, send_due
from kb.helpdesk.models import WAITING, Ticket, utcnow
from kb.helpdesk.waiting import auto_close, close_due, reminder_due, waiting_tickets
from web.background import joined
from web.mail import base_url, mail_domain, settings

log = logging.getLogger(__name__)
INTERVAL = 30.0  # seconds between passes when no request wakes the thread


@dataclass
class Upkeep:
    reminded: int = 0
    closed: int = 0


def _reminder_id(ticket: Ticket) -> str:
    """One reminder per waiting period: its Message-ID names the ticket and the moment it started waiting, and the
    outbox's unique Message-ID refuses a second one written by another process."""
    return f"<reminder.{ticket.ref.lower()}.{ticket.updated_at:%Y%m%d%H%M%S%f}@{mail_domain(settings())}>"


def remind_and_close(app: Flask, now: datetime | None = None) -> Upkeep:
    """Resolve the tickets that waited `auto_close_days` on their customer (with a notice), then remind once
    the customers whose ticket has waited `mail_reminder_hours`. Each ticket in a transaction of its own."""
    from web import notifications

    config = app.config["KB_SETTINGS"]
    now = now or utcnow()
    done = Upkeep()
    sessions = app.extensions["kb.db"]
    with app.test_request_context(base_url=base_url(config)):  # url_for outside a request
        cutoff = close_due(now, config.auto_close_days)
        if cutoff is not None:
            with sessions() as db:
                due = [(t.id, t.updated_at) for t in waiting_tickets(db, cutoff)]
            for ticket_id, seen in due:
                with sessions() as db:
                    # Taken by one process: the UPDATE matches only while the ticket is as it was read.
                    taken = db.execute(update(Ticket).where(Ticket.id == ticket_id, Ticket.status == WAITING,
                                                            Ticket.updated_at == seen).values(updated_at=now))
                    if taken.rowcount != 1:
                        db.rollback()
                        continue
                    ticket = db.get(Ticket, ticket_id)
                    if auto_close(db, ticket, now) is not None:
                        notifications.auto_closed(db, ticket)
                        db.commit()
                        done.closed += 1
        cutoff = reminder_due(now, config.mail_reminder_hours)
        if cutoff is not None:
            with sessions() as db:
                due_ids = [t.id for t in waiting_tickets(db, cutoff)]
            for ticket_id in due_ids:
                with sessions() as db:
                    ticket = db.get(Ticket, ticket_id)
                    message_id = _reminder_id(ticket)
                    if db.scalar(select(OutboxMessage.id).where(OutboxMessage.message_id == message_id)):
                        continue
                    message = notifications.waiting_reminder(db, ticket)
                    if message is None:
                        continue
                    message.message_id = message_id
                    try:
                        db.commit()
                        done.reminded += 1
                    except IntegrityError:  # another process wrote it first
                        db.rollback()
    return done


class MailWorker:
    """The background thread; `wake()` makes it run a pass now (a request wrote mail)."""

    def __init__(self, app: Flask, interval: float = INTERVAL) -> None:
        self.app, self.interval = app, interval
        self._wake, self._stop = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="kb-mail", daemon=True)

    def start(self) -> "MailWorker":
        self.app.extensions["kb.mail_worker"] = self
        self._thread.start()
        atexit.register(self.close)
        return self

    def wake(self) -> None:
        self._wake.set()

    def run_once(self, now: datetime | None = None) -> tuple[Upkeep, SendReport | None]:
        config = self.app.config["KB_SETTINGS"]
        upkeep = remind_and_close(self.app, now)
        if not config.smtp_host or config.mail_sender != "on":
            return upkeep, None  # mail waits in the outbox, or another process sends it
        return upkeep, send_due(self.app.extensions["kb.db"], SmtpConfig.from_settings(config), stop=self._stop)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                upkeep, report = self.run_once()
                if report is not None and report.stopped:
                    log.warning("mail: delivery paused: %s", report.stopped)
            except SQLAlchemyError as exc:
                log.warning("mail: pass failed: %s", exc.__class__.__name__)
            except Exception:  # noqa: BLE001  the thread outlives one bad pass; the next one tries again
                log.exception("mail: pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def stop(self) -> None:
        """Ask the thread to stop after the message in hand (`close` also waits for it)."""
        self._stop.set()
        self._wake.set()

    def close(self, timeout: float = 10) -> bool:
        """Stop the thread and wait for it at most `timeout` seconds; whether it has stopped."""
        self.stop()
        return joined(self._thread, timeout)
