"""The e-mail samples of tests/mail/ and the help desk they are sent to (the fixtures are in the mail tests)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from kb.helpdesk.accounts import add_organisation, hash_password
from kb.helpdesk.mail_models import OutboxMessage
from kb.helpdesk.mail_tokens import reply_address
from kb.helpdesk.models import WAITING, Ticket, User
from kb.helpdesk.tickets import create_ticket, set_status

SAMPLES = Path(__file__).resolve().parent / "mail"
SECRET = "s" * 40
SUPPORT = "support@help.example.com"
REF, OTHER_REF = "KB-TEST0001", "KB-TEST0002"
OUR_ID = "abc@help.example.com"  # the Message-ID (without brackets) of our notification on ticket REF
PASSWORD = "correct horse battery"


def sample(name: str, ref: str = REF, **replace: bytes) -> bytes:
    """A sample's bytes, its reply address signed for `ref` and its In-Reply-To our notification's Message-ID."""
    data = (SAMPLES / name).read_bytes()
    data = data.replace(b"%REPLY_TO%", reply_address(SECRET, SUPPORT, ref).encode())
    data = data.replace(b"%OUR_ID%", OUR_ID.encode())
    for old, new in replace.items():
        data = data.replace(old.encode(), new)
    return data


def add_desk(db: Session) -> dict[str, Ticket]:
    """Acme's people (Ann's ticket REF waiting on her, a notification about it in the outbox), Other's Oz with
    ticket OTHER_REF, and an agent."""
    acme, other = add_organisation(db, "Acme"), add_organisation(db, "Other")
    hashed = hash_password(PASSWORD)  # once: scrypt is slow on purpose
    people = {"ann@acme.example": "member", "olena@acme.example": "member", "ivan@acme.example": "manager",
              "sergey@acme.example": "member"}
    users = {email: User(email=email, password_hash=hashed, role=role, organisation=acme)
             for email, role in people.items()}
    oz = User(email="oz@other.example", password_hash=hashed, role="manager", organisation=other)
    db.add_all([*users.values(), oz, User(email="agent@help.example.com", password_hash=hashed, role="agent")])
    db.flush()
    mine = create_ticket(db, users["ann@acme.example"], "Printer does not print", "It is offline.")
    mine.ref = REF
    set_status(db, mine, WAITING)
    theirs = create_ticket(db, oz, "VPN drops", "Every hour.")
    theirs.ref = OTHER_REF
    db.add(OutboxMessage(to_address="ann@acme.example", ticket_id=mine.id, subject="s", text_body="t",
                         message_id=f"<{OUR_ID}>"))
    db.commit()
    return {REF: mine, OTHER_REF: theirs}
