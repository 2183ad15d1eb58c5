"""Joining an organisation without an administrator: a manager's invitation, or sign-up from one of the
organisation's e-mail domains that allows it. Either way the account exists only once the link mailed to the
address is followed, and the address is what the link was sent to."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from kb.errors import AccountError, LinkError, NotAllowedError
from kb.helpdesk import account_links as links
from kb.helpdesk.account_links import LINK_ERROR, Issued
from kb.helpdesk.account_models import INVITE, SIGNUP, AccountLink
from kb.helpdesk.accounts import check_email, check_password, find_user, hash_password
from kb.helpdesk.models import MANAGER, MEMBER, NAME_MAX, OrganisationDomain, User

GUEST_PASSWORD = "!"  # no hash: an anonymous requester's account, inactive until claimed by sign-up or invitation


def is_guest(user: User) -> bool:
    return not user.active and user.password_hash == GUEST_PASSWORD


def _manager(user: User) -> None:
    if user.role != MANAGER or user.organisation_id is None or not user.active:
        raise NotAllowedError("only an organisation's manager may invite people")


def invite(db: Session, manager: User, email: str, days: float) -> tuple[Issued, User | None]:
    """An invitation into `manager`'s organisation for `email`, replacing an open one for the same address:
    (link, the account the address already has or None). NotAllowedError for anyone but a manager."""
    _manager(manager)
    email = check_email(email)
    links.close_all(db, INVITE, email=email, organisation_id=manager.organisation_id)
    existing = find_user(db, email)
    issued = links.issue(db, INVITE, hours=days * 24, organisation=manager.organisation, invited_by=manager,
                         email=email)
    return issued, (existing if existing is not None and not is_guest(existing) else None)


def withdraw(db: Session, manager: User, link_id: int) -> AccountLink:
    """Withdraw an open invitation of the manager's own organisation (NotAllowedError for anything else)."""
    _manager(manager)
    link = db.get(AccountLink, link_id)
    if link is None or link.kind != INVITE or link.organisation_id != manager.organisation_id \
            or link.used_at is not None:
        raise NotAllowedError("no such invitation")
    links.use(db, link)
    return link


def signup_domain(db: Session, email: str) -> OrganisationDomain | None:
    """The domain of `email` when its organisation allows sign-up from it."""
    domain = email.rpartition("@")[2].lower()
    return db.scalar(select(OrganisationDomain).where(OrganisationDomain.domain == domain,
                                                      OrganisationDomain.signup.is_(True)))


def request_signup(db: Session, email: str, hours: float) -> tuple[Issued | None, User | None]:
    """A sign-up link for an address at a domain open to sign-up: (link, None); (None, the account) when the
    address has one already; (None, None) for any other domain. A decoy is written where no link is, so every
    case does the same work. AccountError only for a malformed address."""
    email = check_email(email)
    domain = signup_domain(db, email)
    existing = find_user(db, email)
    if existing is not None and is_guest(existing):
        existing = None
    if domain is None or existing is not None:
        links.issue_decoy(db, SIGNUP)
        return None, existing if domain is not None else None
    links.close_all(db, SIGNUP, email=email)
    return links.issue(db, SIGNUP, hours=hours, organisation=domain.organisation, email=email), None


def open_link(db: Session, kind: str, token: str) -> AccountLink:
    """An invitation or sign-up link that can still make an account (LinkError otherwise)."""
    link = links.find(db, kind, token)
    existing = find_user(db, link.email)
    if link.organisation_id is None or existing is not None and not is_guest(existing):
        raise LinkError(LINK_ERROR)
    if kind == SIGNUP and (signup_domain(db, link.email) is None
                           or signup_domain(db, link.email).organisation_id != link.organisation_id):
        raise LinkError(LINK_ERROR)  # the organisation closed sign-up since
    return link


def create_account(db: Session, kind: str, token: str, name: str, password: str) -> User:
    """The account an invitation or sign-up link makes, active and in the link's organisation, with the name and
    password given (the link is used up; not committed). AccountError for a bad name or password leaves the link
    usable."""
    link = open_link(db, kind, token)
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX:
        raise AccountError(f"a name needs 1 to {NAME_MAX} characters")
    check_password(password)
    links.use(db, link)
    user = find_user(db, link.email)
    if user is None:
        user = User(email=link.email)
        db.add(user)
    user.name, user.password_hash, user.role = name, hash_password(password), MEMBER
    user.organisation_id, user.active = link.organisation_id, True
    db.flush()
    return user
