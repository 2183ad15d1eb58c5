"""What signed-in users and people who forgot their password do to their own account: a reset link, a new
password, a new e-mail address (confirmed from that address). The web layer mails the links."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from kb.errors import AccountError, LinkError
from kb.helpdesk import account_links as links
from kb.helpdesk.account_links import LINK_ERROR, Issued
from kb.helpdesk.account_models import NEW_EMAIL, RESET, AccountLink
from kb.helpdesk.accounts import (authenticate, check_email, check_password, end_sessions, find_user, hash_password,
                                  normalise_email)
from kb.helpdesk.models import EMAIL_MAX, User


def request_reset(db: Session, email: str, hours: float) -> tuple[User, Issued] | None:
    """A password link for the active account with this address: (user, link); None (after writing a decoy) when
    there is none. The caller answers the same either way."""
    user = find_user(db, email) if len(email or "") <= EMAIL_MAX else None
    usable = user is not None and user.active
    # Only the newest link works; without an account, the same statement matches nothing (the same work).
    links.close_all(db, RESET, user_id=user.id if usable else 0)
    if not usable:
        links.issue_decoy(db, RESET)
        return None
    return user, links.issue(db, RESET, hours=hours, user=user)


def reset_link(db: Session, token: str) -> AccountLink:
    """The reset link `token` names, while it can be used (LinkError otherwise)."""
    link = links.find(db, RESET, token)
    if link.user is None or not link.user.active:
        raise LinkError(LINK_ERROR)
    return link


def reset_password(db: Session, token: str, password: str) -> User:
    """Set a new password through a reset link (used up), ending every session of the user (not committed).
    A password the rules refuse leaves the link usable."""
    link = reset_link(db, token)
    user = link.user
    check_password(password)
    links.use(db, link)
    user.password_hash = hash_password(password)
    links.close_all(db, RESET, user_id=user.id)
    end_sessions(db, user)
    return user


def change_password(db: Session, user: User, current: str, new: str) -> None:
    """A new password for a signed-in user who gave the current one; every session of theirs ends (the caller
    signs this browser in again). AccountError names what is wrong."""
    if authenticate(db, user.email, current) is None:
        raise AccountError("the current password is not right")
    check_password(new)
    user.password_hash = hash_password(new)
    links.close_all(db, RESET, user_id=user.id)
    end_sessions(db, user)


@dataclass(frozen=True)
class AddressChange:
    """A new address asked for: the link to mail to it (None when the address cannot be used: a decoy was
    written instead, and the answer is the same) and the old address, to be told."""

    issued: Issued | None
    new_email: str
    old_email: str


def request_email_change(db: Session, user: User, new_email: str, password: str, hours: float) -> AddressChange:
    """Ask to move `user` to `new_email`, confirmed by a link sent there. AccountError for a wrong password or a
    malformed address; an address another account has gets no link and the same answer."""
    if authenticate(db, user.email, password) is None:
        raise AccountError("the current password is not right")
    new = check_email(new_email)
    if new == user.email:
        raise AccountError("that is already your address")
    old = user.email
    if find_user(db, new) is not None:
        links.issue_decoy(db, NEW_EMAIL)
        return AddressChange(None, new, old)
    links.close_all(db, NEW_EMAIL, user_id=user.id)
    return AddressChange(links.issue(db, NEW_EMAIL, hours=hours, user=user, email=new), new, old)


def confirm_email_change(db: Session, user: User, token: str) -> str:
    """Move `user` to the address the link `token` was sent to (the link is used up); the old address is
    returned. LinkError when the link is not `user`'s, or the address was taken meanwhile."""
    link = links.find(db, NEW_EMAIL, token)
    if link.user_id != user.id or find_user(db, link.email) is not None:
        raise LinkError(LINK_ERROR)
    links.use(db, link)
    old, user.email = user.email, normalise_email(link.email)
    db.flush()
    return old
