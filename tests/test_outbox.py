"""The outbox's written contract: a message is stored with the transaction that writes it or not at all, its
headers cannot be injected, and reply addresses name their ticket under a signature nobody can forge."""
from __future__ import annotations


import pytest
from sqlalchemy import func, select

from kb.errors import AccountError
from kb.helpdesk.db import open_database
from kb.helpdesk.mail_models import PENDING, OutboxMessage
from kb.helpdesk.mail_tokens import reply_address, ticket_ref_from
from kb.helpdesk.outbox import enqueue

SECRET = "k" * 40


@pytest.fixture
def sessions(database_url: str):
    engine, factory = open_database(database_url)
    yield factory
    engine.dispose()


def test_a_message_is_stored_only_with_its_transaction(sessions):
    with sessions.begin() as db:
        message = enqueue(db, to="Ann@Acme.example", subject="Ticket\r\nBcc: x@evil.example received",
                          text="body", kind="ticket_received", domain="desk.example")
    with sessions() as db:
        stored = db.scalar(select(OutboxMessage))
        assert stored.to_address == "ann@acme.example"
        assert stored.subject == "Ticket Bcc: x@evil.example received"  # one line: no header of its own
        assert stored.state == PENDING and stored.attempts == 0
        assert stored.message_id == message.message_id and stored.message_id.endswith("@desk.example>")
    with pytest.raises(RuntimeError):
        with sessions.begin() as db:
            enqueue(db, to="bob@acme.example", subject="s", text="t")
            raise RuntimeError("the event failed")
    with sessions() as db:
        assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 1


@pytest.mark.parametrize("headers, message", [
    ({"Reply-To": "a@b.example\r\nBcc: x@evil.example"}, "line break"),
    ({"Bcc": "x@evil.example"}, "is not one a message may set"),
])
def test_headers_cannot_be_injected(sessions, headers, message):
    with sessions() as db, pytest.raises(ValueError, match=message):
        enqueue(db, to="ann@acme.example", subject="s", text="t", headers=headers)


def test_a_bad_recipient_is_refused(sessions):
    with sessions() as db, pytest.raises(AccountError, match="not an e-mail address"):
        enqueue(db, to="ann@acme.example\nBcc: x@evil.example", subject="s", text="t")


def test_reply_addresses_are_signed_per_ticket():
    address = reply_address(SECRET, "Support@Desk.example", "KB-ABCD2345")
    assert address.startswith("support+t-kb-abcd2345-") and address.endswith("@desk.example")
    assert ticket_ref_from(SECRET, address) == "KB-ABCD2345"
    assert ticket_ref_from(SECRET, address.upper()) == "KB-ABCD2345"  # mail systems may change the case
    assert ticket_ref_from("x" * 40, address) is None  # another site's key
    assert ticket_ref_from(SECRET, address.replace("abcd2345", "abcd2346")) is None  # another ticket, same signature
    assert ticket_ref_from(SECRET, "support@desk.example") is None
