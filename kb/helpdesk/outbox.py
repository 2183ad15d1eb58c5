"""Writing e-mail into the outbox. `enqueue` adds a message to the caller's session and does not commit: the
message is stored with the event that causes it, or not at all. Delivery is kb/helpdesk/mail_sender.py's."""
from __future__ import annotations

import secrets
from typing import Any, Mapping

from sqlalchemy.orm import Session

from kb.helpdesk.accounts import check_email
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.models import SUBJECT_MAX

# Header names a caller may set; everything else (From, To, Subject, Date, Message-ID, MIME) the sender writes.
CALLER_HEADERS = frozenset({"Reply-To", "In-Reply-To", "References", "List-Unsubscribe", "List-Unsubscribe-Post",
                            "Auto-Submitted", "X-Auto-Response-Suppress", "Precedence", "X-KB-Ticket"})


def new_message_id(domain: str) -> str:
    """A Message-ID (with its angle brackets) unique to one outbox row."""
    return f"<{secrets.token_hex(16)}@{domain or 'localhost'}>"


def _clean_header(name: str, value: str) -> str:
    if name not in CALLER_HEADERS:
        raise ValueError(f"header {name!r} is not one a message may set")
    if "\r" in value or "\n" in value:  # header injection
        raise ValueError(f"header {name!r} holds a line break")
    return value


def enqueue(db: Session, *, to: str, subject: str, text: str, html: str = "", kind: str = "", lang: str = "en",
            user_id: int | None = None, ticket_id: int | None = None, headers: Mapping[str, str] | None = None,
            domain: str = "localhost") -> OutboxMessage:
    """Add one message to `db` (not committed). `to` must be one valid address; `subject` loses line breaks;
    `headers` only from CALLER_HEADERS, without line breaks (ValueError otherwise)."""
    address = check_email(to)
    clean_subject = " ".join(subject.split())[: SUBJECT_MAX * 2]
    extra: dict[str, Any] = {name: _clean_header(name, str(value)) for name, value in (headers or {}).items()}
    message = OutboxMessage(to_address=address, subject=clean_subject, text_body=text, html_body=html, kind=kind,
                            lang=lang, user_id=user_id, ticket_id=ticket_id, headers=extra,
                            message_id=new_message_id(domain))
    db.add(message)
    return message
