"""Tickets from visitors who are not signed in (`anonymous_requests = on`): the ticket waits in an account link,
invisible to the desk, until the link mailed to the address given is followed; unconfirmed ones expire with
their link. A confirmed request is filed for the account with that address, or for a new inactive one (a guest,
which a later sign-up or invitation turns into a full account)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kb.errors import TicketError
from kb.helpdesk import account_links as links
from kb.helpdesk.account_links import Issued
from kb.helpdesk.account_models import REQUEST
from kb.helpdesk.accounts import check_email, find_user
from kb.helpdesk.invitations import GUEST_PASSWORD
from kb.helpdesk.models import CATEGORY_MAX, DESCRIPTION_MAX, MEMBER, SUBJECT_MAX, User
from kb.helpdesk.org_domains import organisation_of


@dataclass(frozen=True)
class HeldRequest:
    subject: str
    description: str
    category: str
    searched: str


def hold(db: Session, email: str, request: HeldRequest, hours: float, lang: str = "") -> Issued:
    """Keep the request in a link for `email` (not committed). AccountError for a malformed address,
    TicketError for a field a ticket cannot take."""
    email = check_email(email)
    if not request.subject.strip() or len(request.subject) > SUBJECT_MAX:
        raise TicketError(f"subject needs 1 to {SUBJECT_MAX} characters")
    if not request.description.strip() or len(request.description) > DESCRIPTION_MAX:
        raise TicketError(f"description needs 1 to {DESCRIPTION_MAX} characters")
    payload = {"subject": request.subject, "description": request.description,
               "category": request.category[:CATEGORY_MAX], "searched": request.searched[:2000], "lang": lang}
    return links.issue(db, REQUEST, hours=hours, email=email, payload=payload)


def release(db: Session, token: str) -> tuple[User, HeldRequest]:
    """Use the link `token` up: the customer the request is filed for and the request (not committed).
    LinkError when the link cannot be used."""
    link = links.find(db, REQUEST, token)
    links.use(db, link)
    user = find_user(db, link.email)
    if user is None:
        org = organisation_of(db, link.email)
        user = User(email=link.email, name="", password_hash=GUEST_PASSWORD, role=MEMBER, organisation=org,
                    active=False, language=str(link.payload.get("lang", ""))[:16])
        db.add(user)
        db.flush()
    data = link.payload
    return user, HeldRequest(str(data.get("subject", "")), str(data.get("description", "")),
                             str(data.get("category", "")), str(data.get("searched", "")))
