"""Attaching files to a ticket's messages: the rules (size, count, type by content) and storing them.

`attach` is the one entry point, for the portal's forms, the desk and mail intake alike: it checks every file,
refuses the lot with one AttachmentError naming each bad file and the rule it breaks, else writes the bytes to
the storage and adds an Attachment row per file to the caller's session (no commit: the files belong to the
ticket or reply written in the same transaction).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.errors import AttachmentError
from kb.helpdesk.attachment_models import Attachment
from kb.helpdesk.file_types import MARKUP, clean_name, describe, display_name, parse_types, sniff
from kb.helpdesk.models import Ticket, TicketEvent, User, utcnow
from kb.helpdesk.previews import preview
from kb.helpdesk.storage import Storage, new_key

MB = 1024 * 1024
# Rules a file can break (Problem.rule); the web layer words each in the reader's language.
EMPTY, TOO_LARGE, TOO_MANY, MARKUP_TYPE, NOT_ALLOWED, REQUEST_TOO_LARGE = (
    "empty", "too_large", "too_many", "markup", "type_not_allowed", "request_too_large")


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    per_message: int
    types: tuple[str, ...]

    @property
    def max_mb(self) -> int:
        return self.max_bytes // MB

    @property
    def request_bytes(self) -> int:
        """The largest request body a form with files may send: every file at its largest, and room for text."""
        return self.per_message * self.max_bytes + MB

    def allowed_names(self) -> str:
        return ", ".join(describe(t) for t in self.types)


def limits(settings) -> Limits:
    return Limits(settings.attachment_max_mb * MB, settings.attachments_per_message,
                  parse_types(settings.attachment_types))


@dataclass(frozen=True)
class Problem:
    """Why one file is refused: `rule` (one of the constants above) with what the message needs."""

    filename: str
    rule: str
    content_type: str = ""
    size: int = 0
    limit: int = 0
    allowed: str = ""

    def __str__(self) -> str:
        name = f"“{self.filename}”"
        if self.rule == EMPTY:
            return f"{name} is empty"
        if self.rule == TOO_LARGE:
            return f"{name} has {self.size / MB:.1f} MB; a file may have at most {self.limit} MB"
        if self.rule == TOO_MANY:
            return f"{name} is past the limit: at most {self.limit} files may come with one message"
        if self.rule == MARKUP_TYPE:
            return f"{name} is {describe(self.content_type)}, which can carry scripts; it cannot be attached"
        if self.rule == REQUEST_TOO_LARGE:
            return f"the files together are larger than {self.limit} MB"
        return (f"{name} is {describe(self.content_type)} by its content, whatever its name says; "
                f"allowed: {self.allowed}")


@dataclass(frozen=True)
class Checked:
    """A file that passed the rules: its display name, bytes and detected type."""

    filename: str
    data: bytes
    content_type: str


def check_files(settings, files: Iterable[tuple[str, bytes]]) -> list[Checked]:
    """Every file checked against the rules; AttachmentError listing every refused file, else the files with
    their detected types and display names."""
    rules = limits(settings)
    files = list(files)
    problems: list[Problem] = []
    checked: list[Checked] = []
    for number, (filename, data) in enumerate(files):
        shown = clean_name(filename) or f"file {number + 1}"
        if number >= rules.per_message:
            problems.append(Problem(shown, TOO_MANY, limit=rules.per_message))
            continue
        if not data:
            problems.append(Problem(shown, EMPTY))
            continue
        if len(data) > rules.max_bytes:
            problems.append(Problem(shown, TOO_LARGE, size=len(data), limit=rules.max_mb))
            continue
        mime = sniff(data)
        if mime in MARKUP:
            problems.append(Problem(shown, MARKUP_TYPE, content_type=mime))
        elif mime not in rules.types:
            problems.append(Problem(shown, NOT_ALLOWED, content_type=mime, allowed=rules.allowed_names()))
        else:
            checked.append(Checked(display_name(filename, mime), data, mime))
    if problems:
        raise AttachmentError(problems)
    return checked


def attach(db: Session, storage: Storage, settings, *, ticket: Ticket, event: TicketEvent,
           files: Iterable[tuple[str, bytes]], uploader: User | None) -> list[Attachment]:
    """Attach `files` ((filename, bytes) pairs) to `event` of `ticket`: checked (AttachmentError, nothing stored),
    then stored with an image preview each, and added to `db` (flushed, not committed).

    The bytes are written before the rows: should the transaction fail later, the files are left unreferenced in
    the storage (harmless, never served), never rows without their files."""
    checked = check_files(settings, files)
    written: list[str] = []
    added: list[Attachment] = []
    try:
        for item in checked:
            key = new_key()
            storage.put(key, item.data)
            written.append(key)
            preview_key, preview_type = "", ""
            thumbnail = preview(item.data, item.content_type)
            if thumbnail is not None:
                preview_key = new_key(".preview")
                storage.put(preview_key, thumbnail[0])
                written.append(preview_key)
                preview_type = thumbnail[1]
            attachment = Attachment(ticket_id=ticket.id, event_id=event.id, filename=item.filename,
                                    content_type=item.content_type, size=len(item.data),
                                    sha256=hashlib.sha256(item.data).hexdigest(), storage_key=key,
                                    preview_key=preview_key, preview_type=preview_type,
                                    uploader_id=uploader.id if uploader else None, created_at=utcnow())
            db.add(attachment)
            added.append(attachment)
        db.flush()
    except BaseException:
        for key in written:
            storage.delete(key)
        raise
    return added


def attachments_by_event(db: Session, ticket: Ticket) -> dict[int, list[Attachment]]:
    """A ticket's attachments grouped by the event (message) they came with, in upload order."""
    grouped: dict[int, list[Attachment]] = {}
    for attachment in db.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)):
        grouped.setdefault(attachment.event_id, []).append(attachment)
    return grouped


def find_attachment(db: Session, ticket: Ticket, attachment_id: int) -> Attachment | None:
    """The attachment with this id if it belongs to `ticket` (an id from another ticket is none of its)."""
    return db.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.ticket_id == ticket.id))
