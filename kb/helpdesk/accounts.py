"""Organisations and users: creation, password hashing (scrypt via werkzeug) and sign-in checks."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from kb.errors import AccountError
from kb.helpdesk.models import (ADMIN_ROLE, AGENT_ROLE, CUSTOMER_ROLES, EMAIL_MAX, GROUP_MAX, MANAGER, MEMBER, NAME_MAX,
                       STAFF_ROLES, Organisation, Ticket, User)

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

DEMO_ORG = "Demo Company"
DEMO_USERS = (("manager@demo.example", "Dana Manager", MANAGER, "demo-manager-pass"),
              ("member@demo.example", "Max Member", MEMBER, "demo-member-pass"))
DEMO_STAFF = (("agent@demo.example", "Alex Agent", AGENT_ROLE, "demo-agent-pass", "general"),
              ("admin@demo.example", "Ada Admin", ADMIN_ROLE, "demo-admin-pass", "general"))
_GROUP_RE = re.compile(r"^[A-Za-z0-9_.-]*$")


# werkzeug's scrypt (N=2**15, r=8, p=1: 32 MiB and a few hundred milliseconds a hash, on purpose). A stored hash
# names its own method, so hashes made with another one (the test suite's cheap one) still check.
HASH_METHOD = "scrypt"


@functools.cache
def _dummy_hash(method: str) -> str:
    """Checked against when the e-mail is unknown, so a sign-in takes as long whether or not the account exists."""
    return generate_password_hash("no such account", method=method)


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=HASH_METHOD)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def check_email(email: str) -> str:
    email = normalise_email(email)
    if len(email) > EMAIL_MAX or not _EMAIL_RE.match(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    return email


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password must have at most {MAX_PASSWORD} characters")


def add_organisation(db: Session, name: str) -> Organisation:
    name = " ".join((name or "").split())
    if not name or len(name) > NAME_MAX:
        raise AccountError(f"an organisation name needs 1 to {NAME_MAX} characters")
    if find_organisation(db, name) is not None:
        raise AccountError(f"organisation {name!r} already exists")
    org = Organisation(name=name)
    db.add(org)
    db.flush()
    return org


def find_organisation(db: Session, name: str) -> Organisation | None:
    """The organisation of exactly that name, else one whose name the database's lower() folds to the name in lower
    case. SQLite's lower() folds ASCII letters only: "ÔRG" is not found as "ôrg" there, yet found as "ÔRG", which
    the names' unique index would refuse a second time."""
    name = " ".join(name.split())
    return db.scalar(select(Organisation)
                     .where(or_(Organisation.name == name, func.lower(Organisation.name) == name.lower()))
                     .order_by((Organisation.name == name).desc(), Organisation.id).limit(1))


def add_user(db: Session, email: str, password: str, organisation: str, role: str = MEMBER,
             name: str = "") -> User:
    """A customer of `organisation` (its name) with role member or manager."""
    email = check_email(email)
    check_password(password)
    if role not in CUSTOMER_ROLES:
        raise AccountError(f"role must be one of {', '.join(CUSTOMER_ROLES)}, not {role!r}")
    org = find_organisation(db, organisation)
    if org is None:
        raise AccountError(f"no organisation named {organisation!r} (create it with `kb org add`)")
    if find_user(db, email) is not None:
        raise AccountError(f"a user with e-mail {email} already exists")
    user = User(email=email, name=" ".join(name.split())[:NAME_MAX], password_hash=hash_password(password),
                role=role, organisation=org)
    db.add(user)
    db.flush()
    return user


def add_staff(db: Session, email: str, password: str, role: str = AGENT_ROLE, group: str = "",
              name: str = "") -> User:
    """An agent or admin of the desk: in no organisation, so no customer rule ever applies to them."""
    email = check_email(email)
    check_password(password)
    if role not in STAFF_ROLES:
        raise AccountError(f"role must be one of {', '.join(STAFF_ROLES)}, not {role!r}")
    group = check_group(group)
    if find_user(db, email) is not None:
        raise AccountError(f"a user with e-mail {email} already exists")
    user = User(email=email, name=" ".join(name.split())[:NAME_MAX], password_hash=hash_password(password),
                role=role, organisation=None, agent_group=group)
    db.add(user)
    db.flush()
    return user


def check_group(group: str) -> str:
    """An agent group's name as stored: stripped, at most GROUP_MAX letters, digits, '_', '.' or '-'."""
    group = (group or "").strip()
    if len(group) > GROUP_MAX or not _GROUP_RE.match(group):
        raise AccountError(f"a group name has at most {GROUP_MAX} letters, digits, '_', '.' or '-'")
    return group


def staff(db: Session) -> list[User]:
    return list(db.scalars(select(User).where(User.role.in_(STAFF_ROLES)).order_by(User.email)))


def organisations(db: Session) -> list[Organisation]:
    return list(db.scalars(select(Organisation).order_by(func.lower(Organisation.name))))


def find_user(db: Session, email: str) -> User | None:
    return db.scalar(select(User).where(User.email == normalise_email(email)))


def authenticate(db: Session, email: str, password: str) -> User | None:
    """The active user with this e-mail and password, or None."""
    user = find_user(db, email) if len(email or "") <= EMAIL_MAX else None
    password = (password or "")[:MAX_PASSWORD]
    if user is None:
        check_password_hash(_dummy_hash(HASH_METHOD), password)
        return None
    if not user.active or not check_password_hash(user.password_hash, password):
        return None
    return user


def end_sessions(db: Session, user: User) -> None:
    """Sign `user` out everywhere: every session cookie issued to them so far stops working (not committed).

    The generation is raised in SQL, so two sign-outs at once both count.
    """
    user.session_generation = User.session_generation + 1
    db.flush()


def can_see_ticket(user: User | None, ticket: Ticket) -> bool:
    """A member sees their own tickets; an organisation's manager sees all of the organisation's.

    Staff see tickets on the desk only, never through these rules.
    """
    if user is None or user.role not in CUSTOMER_ROLES:
        return False
    if user.role == MANAGER:
        return ticket.organisation_id is not None and ticket.organisation_id == user.organisation_id
    return ticket.customer_id == user.id


@dataclass(frozen=True)
class SeedResult:
    created: bool
    users: tuple[tuple[str, str, str], ...]  # (email, role, password)


def demo_seed(db: Session, if_empty: bool = False) -> SeedResult:
    """The demo organisation with a manager and a member, a demo agent and admin (known passwords); nothing is
    created twice.

    With `if_empty`, nothing is created when the database already has users.
    """
    users = tuple((email, role, password) for email, _, role, password in DEMO_USERS) + \
        tuple((email, role, password) for email, _, role, password, _ in DEMO_STAFF)
    if if_empty and db.scalar(select(func.count()).select_from(User)):
        return SeedResult(False, users)
    created = False
    if find_organisation(db, DEMO_ORG) is None:
        add_organisation(db, DEMO_ORG)
        created = True
    for email, name, role, password in DEMO_USERS:
        if find_user(db, email) is None:
            add_user(db, email, password, DEMO_ORG, role, name)
            created = True
    for email, name, role, password, group in DEMO_STAFF:
        if find_user(db, email) is None:
            add_staff(db, email, password, role, group, name)
            created = True
    return SeedResult(created, users)
