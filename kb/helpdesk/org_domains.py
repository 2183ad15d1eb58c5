"""Organisations' e-mail domains (`kb org domain add`, the desk's admin page): which organisation an address
belongs to, and whether people at the domain may sign up themselves."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kb.errors import AccountError
from kb.helpdesk.accounts import find_organisation
from kb.helpdesk.models import EMAIL_MAX, Organisation, OrganisationDomain

_DOMAIN_RE = re.compile(r"^(?=.{4,%d}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$" % EMAIL_MAX)


def check_domain(domain: str) -> str:
    """`domain` lower-case without a leading "@", or AccountError when it is not a domain name (IDNs in their
    xn-- form)."""
    cleaned = (domain or "").strip().lower().lstrip("@")
    if not _DOMAIN_RE.match(cleaned):
        raise AccountError(f"{domain!r} is not a domain name like example.com")
    return cleaned


def add_domain(db: Session, organisation: str, domain: str, signup: bool = False) -> OrganisationDomain:
    """Give `organisation` (its name) the e-mail domain `domain`; adding it again to the same organisation sets
    `signup` as given. AccountError when the organisation is unknown or another one has the domain."""
    org = find_organisation(db, organisation)
    if org is None:
        raise AccountError(f"no organisation named {organisation!r} (create it with `kb org add`)")
    domain = check_domain(domain)
    found = db.scalar(select(OrganisationDomain).where(OrganisationDomain.domain == domain))
    if found is not None and found.organisation_id != org.id:
        raise AccountError(f"the domain {domain} belongs to another organisation")
    if found is None:
        found = OrganisationDomain(organisation=org, domain=domain)
        db.add(found)
    found.signup = bool(signup)
    db.flush()
    return found


def domains(db: Session) -> list[OrganisationDomain]:
    return list(db.scalars(select(OrganisationDomain).join(Organisation)
                           .order_by(func.lower(Organisation.name), OrganisationDomain.domain)))


def organisation_of(db: Session, email: str) -> Organisation | None:
    """The organisation owning the domain of `email`, if one does."""
    domain = email.rpartition("@")[2].lower()
    found = db.scalar(select(OrganisationDomain).where(OrganisationDomain.domain == domain))
    return found.organisation if found is not None else None


def add_domain_to(database_url: str, organisation: str, domain: str, signup: bool) -> tuple[str, str, bool]:
    """`kb org domain add`: open the database, add the domain in one transaction: (organisation, domain,
    signup) as stored."""
    from kb.helpdesk.db import open_database

    _, sessions = open_database(database_url)
    with sessions.begin() as session:
        found = add_domain(session, organisation, domain, signup)
        return found.organisation.name, found.domain, found.signup
