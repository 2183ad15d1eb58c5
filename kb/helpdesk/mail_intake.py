"""Taking in one e-mail: a reply lands on its ticket, new mail to the support address opens one, everything else is
ignored with a reason. `take_in` does it in the caller's session and commits once, with a row in `received_mail`
(kb/helpdesk/mail_intake_models.py), so the same Message-ID delivered again is handled once.

Which ticket a reply belongs to: the signed reply address it was sent to (kb/helpdesk/mail_tokens.py), else the
Message-IDs it answers (In-Reply-To, References) among the mail kb sent (the outbox) or received for a ticket. Only
the ticket's customer or a customer allowed to see it (kb.helpdesk.accounts.can_see_ticket) may add to it.

Nothing from a received message is ever put into a header kb sends: an automatic answer goes to the From address
(checked), with a subject and text of our own templates.
"""
from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from kb.errors import AttachmentError, TicketError
from kb.helpdesk.accounts import can_see_ticket, find_user, normalise_email
from kb.helpdesk.attachments import attach, check_files
from kb.helpdesk.mail_intake_models import (AUTO_REPLIED, IGNORED, NOTE_MAX, REPLY_ADDED, TICKET_OPENED,
                                            ReceivedMessage)
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.mail_parse import ParsedMail, parse_message
from kb.helpdesk.mail_tokens import ticket_ref_from
from kb.helpdesk.models import (CUSTOMER_ROLES, DESCRIPTION_MAX, EVENT_SUBMITTED, MEMBER, NAME_MAX, SUBJECT_MAX,
                                OrganisationDomain, Ticket, TicketEvent, User, utcnow)
from kb.helpdesk.routing import Routing, parse_routing
from kb.helpdesk.storage import storage_from
from kb.helpdesk.ticket_sla import SlaRules
from kb.helpdesk.tickets import add_reply, create_ticket, find_ticket

log = logging.getLogger("kb.mail")

DUPLICATE = "duplicate"
NO_PASSWORD = "!"  # not a werkzeug hash: no password ever matches it (the account signs in by a reset link only)
_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|ha|отв|ответ|відп|відповідь)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_UKRAINIAN = re.compile(r"[іїєґІЇЄҐ]")
_CYRILLIC = re.compile(r"[а-яА-ЯёЁ]")
LANGUAGES = ("en", "ru", "uk")

Classifier = Callable[[str], "str | None"]  # a ticket's text -> its predicted category (None: not sure)
AutoReply = Callable[[Session, str, str], None]  # (session, address, language): put the portal-link answer in the outbox
# (session, ticket, its new event: the submission or a reply): put the notifications the portal writes for it in the
# outbox, in the same transaction
Notify = Callable[[Session, Ticket, TicketEvent], None]


@dataclass(frozen=True)
class IntakeConfig:
    secret: str  # the site's secret key: reply addresses are signed with it
    support_address: str  # the `mail_from` setting
    unknown_sender: str = "reply"  # or "organisation"
    sender_hourly: int = 20
    routing: Routing | None = None
    # Where the mail's files go, and the settings whose attachment rules they must pass (None: not kept).
    storage: Any = None
    settings: Any = None
    sla: SlaRules | None = None  # predicts a new ticket's priority and starts its clocks (None: neither)

    @classmethod
    def from_settings(cls, settings, secret: str) -> IntakeConfig:
        return cls(secret=secret, support_address=normalise_email(settings.mail_from),
                   unknown_sender=settings.mail_unknown_sender, sender_hourly=settings.mail_sender_hourly,
                   routing=parse_routing(settings.routing), storage=storage_from(settings), settings=settings,
                   sla=SlaRules.from_settings(settings))

    @property
    def local_part(self) -> str:
        return self.support_address.partition("@")[0]

    @property
    def domain(self) -> str:
        return self.support_address.partition("@")[2]


@dataclass(frozen=True)
class Outcome:
    outcome: str  # one of kb.helpdesk.mail_intake_models.OUTCOMES, or "duplicate"
    reason: str
    ticket_ref: str = ""

    @property
    def handled(self) -> bool:
        return self.outcome in (REPLY_ADDED, TICKET_OPENED, AUTO_REPLIED)


def message_key(parsed: ParsedMail, data: bytes) -> str:
    """The name a message is recorded under: its Message-ID, else a digest of its bytes."""
    return parsed.message_id or f"<sha256-{hashlib.sha256(data).hexdigest()}@kb.invalid>"


def take_in(db: Session, data: bytes, config: IntakeConfig, classify: Classifier, auto_reply: AutoReply,
            notify: Notify | None = None) -> Outcome:
    """Handle one RFC 822 message and commit; the outcome says what became of it and why. A reply added or a
    ticket opened is passed to `notify`, so its people are told as when it comes from the portal."""
    parsed = parse_message(data)
    key = message_key(parsed, data)
    if db.scalar(select(ReceivedMessage.id).where(ReceivedMessage.message_id == key)) is not None:
        return Outcome(DUPLICATE, f"message {key[:80]} was received before")
    refused = _refusal(db, parsed, config)
    outcome = Outcome(IGNORED, refused) if refused else _deliver(db, parsed, config, classify, auto_reply, notify)
    ticket = find_ticket(db, outcome.ticket_ref) if outcome.ticket_ref else None
    db.add(ReceivedMessage(message_id=key, sender=parsed.sender, outcome=outcome.outcome,
                           ticket_id=ticket.id if ticket else None, note=outcome.reason[:NOTE_MAX]))
    try:
        db.commit()
    except IntegrityError:  # the same message taken in by another process at the same moment
        db.rollback()
        return Outcome(DUPLICATE, f"message {key[:80]} was received before")
    if outcome.outcome == IGNORED:
        log.warning("ignored e-mail %s from %s: %s", key[:80], parsed.sender or "(no address)", outcome.reason)
    else:
        log.info("e-mail %s from %s: %s", key[:80], parsed.sender, outcome.reason)
    return outcome


def _ours(address: str, config: IntakeConfig) -> bool:
    """Whether `address` is the support address or one of its `+` variants (reply addresses)."""
    local, _, domain = address.partition("@")
    return domain == config.domain and local.partition("+")[0] == config.local_part


def _refusal(db: Session, parsed: ParsedMail, config: IntakeConfig) -> str:
    """Why the message must not be taken in at all (no sender, written by a machine, a loop, a flood); '' if not."""
    if not parsed.sender:
        return "no single usable From address"
    if parsed.automatic:
        return f"written by a machine ({parsed.automatic})"
    if _ours(parsed.sender, config):
        return "sent from our own address (a mail loop)"
    if "x-kb-ticket" in parsed.header_names:
        return "carries our own X-KB-Ticket header (a mail loop)"
    if parsed.message_id.rstrip(">").rpartition("@")[2].lower() == config.domain:
        return "its Message-ID is from our own domain (a mail loop)"
    since = utcnow() - timedelta(hours=1)
    count = db.scalar(select(func.count(ReceivedMessage.id)).where(ReceivedMessage.sender == parsed.sender,
                                                                   ReceivedMessage.received_at >= since))
    if count >= config.sender_hourly:
        return f"more than {config.sender_hourly} e-mails from this sender in an hour"
    return ""


def _deliver(db: Session, parsed: ParsedMail, config: IntakeConfig, classify: Classifier,
             auto_reply: AutoReply, notify: Notify | None) -> Outcome:
    tokens = [address for address in parsed.recipients if _ours(address, config) and "+t-" in address]
    refs = [ref for ref in (ticket_ref_from(config.secret, address) for address in tokens) if ref]
    if tokens and not refs:
        return Outcome(IGNORED, "sent to a reply address whose signature is wrong")
    ticket = find_ticket(db, refs[0]) if refs else _threaded_ticket(db, parsed)
    if refs and ticket is None:
        return Outcome(IGNORED, f"sent to the reply address of ticket {refs[0]}, which does not exist")
    if ticket is not None:
        return _reply(db, parsed, ticket, config, notify)
    if not any(_ours(address, config) for address in parsed.recipients):
        return Outcome(IGNORED, "not addressed to the support address")
    return _new_mail(db, parsed, config, classify, auto_reply, notify)


def _threaded_ticket(db: Session, parsed: ParsedMail) -> Ticket | None:
    """The ticket of the newest message this one answers, among the mail we sent or received for a ticket."""
    answered = list(dict.fromkeys(reversed(parsed.in_reply_to + parsed.references)))[:50]
    if not answered:
        return None
    for model in (OutboxMessage, ReceivedMessage):
        rows = dict(db.execute(select(model.message_id, model.ticket_id)
                               .where(model.message_id.in_(answered), model.ticket_id.is_not(None))).all())
        for message_id in answered:
            if message_id in rows:
                return db.get(Ticket, rows[message_id])
    return None


def _reply(db: Session, parsed: ParsedMail, ticket: Ticket, config: IntakeConfig,
           notify: Notify | None) -> Outcome:
    user = find_user(db, parsed.sender)
    if user is None or not user.active or not can_see_ticket(user, ticket):
        return Outcome(IGNORED, f"the sender may not see ticket {ticket.ref}", "")
    body = cut(parsed.reply or parsed.body or _attachment_note(parsed))
    if not body.strip():
        return Outcome(IGNORED, f"a reply to ticket {ticket.ref} without text")
    event = add_reply(db, ticket, user, body)
    _attach(db, parsed, ticket, event, user, config)
    if notify is not None:
        notify(db, ticket, event)
    return Outcome(REPLY_ADDED, f"reply added to ticket {ticket.ref}", ticket.ref)


def _new_mail(db: Session, parsed: ParsedMail, config: IntakeConfig, classify: Classifier,
              auto_reply: AutoReply, notify: Notify | None) -> Outcome:
    user = find_user(db, parsed.sender)
    if user is not None and (not user.active or user.role not in CUSTOMER_ROLES):
        return Outcome(IGNORED, "the sender's account is not an active customer's")
    if user is None and config.unknown_sender == "organisation":
        user = _member_for_domain(db, parsed)
    if user is None:
        return _answer_unknown(db, parsed, auto_reply)
    text = cut(parsed.body if parsed.forwarded else (parsed.reply or parsed.body))
    if not text.strip():
        text = _attachment_note(parsed) or ticket_subject(parsed)
    subject = ticket_subject(parsed)
    category = (classify(f"{subject} {text}") or "") if classify else ""
    group = config.routing.group_for(category or None) if config.routing else ""
    try:
        ticket = create_ticket(db, user, subject, text, category, predicted=category, group=group, rules=config.sla)
    except TicketError as exc:
        return Outcome(IGNORED, f"no ticket could be opened: {exc}")
    _attach(db, parsed, ticket, ticket.events[0], user, config)
    if notify is not None:
        notify(db, ticket, ticket.events[0])
    return Outcome(TICKET_OPENED, f"ticket {ticket.ref} opened for {user.email}", ticket.ref)


def _attach(db: Session, parsed: ParsedMail, ticket: Ticket, event: TicketEvent, user: User,
            config: IntakeConfig) -> None:
    """The mail's files attached to `event` under the rules the portal's uploads follow (kb/helpdesk/attachments.py).
    A mail cannot be sent back to fix: the files the rules allow are kept, and the others are named, with why, at
    the end of the message's text."""
    if config.storage is None or config.settings is None or not parsed.attachments:
        return
    files = [(a.filename, a.data) for a in parsed.attachments]
    try:
        attach(db, config.storage, config.settings, ticket=ticket, event=event, files=files, uploader=user)
        return
    except AttachmentError:
        pass
    kept: list[tuple[str, bytes]] = []
    refused: list[str] = []
    for name, data in files:
        try:
            check_files(config.settings, [(name, data)])
        except AttachmentError as exc:
            refused.append(str(exc))
            continue
        kept.append((name, data))
    most = config.settings.attachments_per_message
    refused += [f"{name}: more files than a message may bring ({most})" for name, _ in kept[most:]]
    if kept[:most]:
        attach(db, config.storage, config.settings, ticket=ticket, event=event, files=kept[:most], uploader=user)
    note = f"\n\n[Not attached: {'; '.join(refused)}]"
    if event.kind == EVENT_SUBMITTED:  # a new ticket's text is its description
        ticket.description = cut(ticket.description + note)
    else:
        event.body = cut(event.body + note)


def _member_for_domain(db: Session, parsed: ParsedMail) -> User | None:
    """A member account (no usable password) in the organisation owning the sender's domain, if one does."""
    domain = parsed.sender.rpartition("@")[2]
    owner = db.scalar(select(OrganisationDomain).where(OrganisationDomain.domain == domain))
    if owner is None:
        return None
    user = User(email=parsed.sender, name=parsed.sender_name[:NAME_MAX], password_hash=NO_PASSWORD, role=MEMBER,
                organisation_id=owner.organisation_id)
    db.add(user)
    db.flush()
    return user


def _answer_unknown(db: Session, parsed: ParsedMail, auto_reply: AutoReply) -> Outcome:
    """One automatic answer a day to an address without an account, with the portal's link."""
    since = utcnow() - timedelta(days=1)
    answered = db.scalar(select(ReceivedMessage.id).where(ReceivedMessage.sender == parsed.sender,
                                                          ReceivedMessage.outcome == AUTO_REPLIED,
                                                          ReceivedMessage.received_at >= since).limit(1))
    if answered is not None:
        return Outcome(IGNORED, "unknown sender, already answered automatically today")
    auto_reply(db, parsed.sender, message_language(parsed))
    return Outcome(AUTO_REPLIED, "unknown sender: answered with the portal's link")


def message_language(parsed: ParsedMail) -> str:
    """The language to answer in: the message's Content-Language, else told from its letters; '' if unsure."""
    tag = parsed.language.split("-")[0]
    if tag in LANGUAGES:
        return tag
    text = f"{parsed.subject} {parsed.reply}"
    if _UKRAINIAN.search(text):
        return "uk"
    return "ru" if _CYRILLIC.search(text) else ""


def ticket_subject(parsed: ParsedMail) -> str:
    """The message's subject without "Re:" prefixes, on one line, cut to fit; else its first words."""
    subject = _REPLY_PREFIX.sub("", parsed.subject).strip()
    if not subject:
        first = next((line.strip() for line in (parsed.reply or parsed.body).splitlines() if line.strip()), "")
        subject = first or f"E-mail from {parsed.sender}"
    return subject[:SUBJECT_MAX]


def cut(text: str, limit: int = DESCRIPTION_MAX) -> str:
    """`text`, or as much of it as a ticket holds with a note saying how much was left out."""
    text = text.strip()
    if len(text) <= limit:
        return text
    note = f"\n\n[… {len(text) - limit + 200} more characters of the e-mail were cut]"
    return text[:limit - 200].rstrip() + note


def _attachment_note(parsed: ParsedMail) -> str:
    names = ", ".join(a.filename for a in parsed.attachments)
    return f"[{names}]" if names else ""


class Intake:
    """Takes in messages one by one, each in a session of its own, against the database at `database_url`.
    Any database failure is a DatabaseError (the message was not taken in: deliver it again later)."""

    def __init__(self, database_url: str, config: IntakeConfig, classify: Classifier, auto_reply: AutoReply,
                 notify: Notify | None = None) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from kb.errors import DatabaseError
        from kb.helpdesk.db import open_database

        self._failure = (SQLAlchemyError, DatabaseError)
        self.config, self.classify, self.auto_reply, self.notify = config, classify, auto_reply, notify
        try:
            _, self.sessions = open_database(database_url)
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the database is unavailable: {_first_line(exc)}") from None

    def __call__(self, data: bytes) -> Outcome:
        from kb.errors import DatabaseError

        try:
            with self.sessions() as db:
                return take_in(db, data, self.config, self.classify, self.auto_reply, self.notify)
        except self._failure as exc:
            if isinstance(exc, DatabaseError):
                raise
            raise DatabaseError(f"the database is unavailable: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:200]
