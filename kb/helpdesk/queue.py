"""The agent desk's queue: filters from a query string, the order agents work in, counts per status, pages.

Order: tickets awaiting staff (submitted or in progress) first, then those waiting on the customer, then resolved
ones; within each, the ticket whose customer wrote last (filing or replying) comes first. With a search text, the
best match comes first (kb/helpdesk/ticket_search.py), then that order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from kb.helpdesk.models import CATEGORY_MAX, GROUP_MAX, IN_PROGRESS, STATUSES, SUBMITTED, WAITING, Ticket, utcnow
from kb.helpdesk.ticket_search import matches

# Age of a ticket (since it was filed): name -> (at least, less than).
AGES: dict[str, tuple[timedelta | None, timedelta | None]] = {
    "<1h": (None, timedelta(hours=1)),
    "<24h": (None, timedelta(hours=24)),
    ">24h": (timedelta(hours=24), None),
    ">7d": (timedelta(days=7), None),
}
AWAITING_STAFF = (SUBMITTED, IN_PROGRESS)
SEARCH_MAX = 200  # characters of a search text


@dataclass(frozen=True)
class QueueFilter:
    status: str = ""
    category: str = ""
    organisation_id: int | None = None
    group: str = ""
    age: str = ""
    text: str = ""  # words the ticket's text holds (subject, description, every reply)

    def query_args(self, **changes) -> dict[str, str]:
        """The filter as query-string arguments (unset ones left out), with `changes` applied."""
        values = {"q": self.text, "status": self.status, "category": self.category,
                  "org": self.organisation_id or "", "group": self.group, "age": self.age, **changes}
        return {k: str(v) for k, v in values.items() if v not in ("", None)}


def parse_filter(args: Mapping[str, str]) -> QueueFilter:
    """A filter from query-string arguments; values that cannot match anything are ignored."""
    status = args.get("status", "")
    org = args.get("org", "")
    return QueueFilter(status=status if status in STATUSES else "",
                       category=args.get("category", "")[:CATEGORY_MAX],
                       organisation_id=int(org) if org.isdigit() and len(org) < 10 else None,
                       group=args.get("group", "")[:GROUP_MAX],
                       age=args.get("age", "") if args.get("age", "") in AGES else "",
                       text=" ".join(args.get("q", "")[:SEARCH_MAX].split()))


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    total: int
    page: int
    pages: int
    counts: dict[str, int]  # per status, under the other filters


def _conditions(chosen: QueueFilter, now: datetime) -> list:
    conditions = []
    if chosen.category:
        conditions.append(Ticket.category == chosen.category)
    if chosen.organisation_id is not None:
        conditions.append(Ticket.organisation_id == chosen.organisation_id)
    if chosen.group:
        conditions.append(Ticket.agent_group == chosen.group)
    if chosen.age:
        at_least, less_than = AGES[chosen.age]
        if at_least is not None:
            conditions.append(Ticket.created_at <= now - at_least)
        if less_than is not None:
            conditions.append(Ticket.created_at > now - less_than)
    return conditions


def queue(db: Session, chosen: QueueFilter, page: int = 1, size: int = 25, now: datetime | None = None) -> QueuePage:
    now = now or utcnow()
    conditions = _conditions(chosen, now)
    matched = matches(db, chosen.text) if chosen.text else None

    def tickets(*columns, found=matched):
        query = select(*columns).select_from(Ticket)
        return query.join(found, found.c.ticket_id == Ticket.id) if found is not None else query

    counts = dict.fromkeys(STATUSES, 0)
    unranked = matches(db, chosen.text, ranked=False) if chosen.text else None  # (counting needs no scores)
    for status, n in db.execute(tickets(Ticket.status, func.count(), found=unranked).where(*conditions)
                                .group_by(Ticket.status)):
        counts[status] = n
    if chosen.status:
        conditions.append(Ticket.status == chosen.status)
    total = counts.get(chosen.status, 0) if chosen.status else sum(counts.values())  # (no second count)
    size = max(1, size)
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    stage = case((Ticket.status.in_(AWAITING_STAFF), 0), (Ticket.status == WAITING, 1), else_=2)
    order = [stage, Ticket.last_customer_at.desc(), Ticket.id.desc()]
    if matched is not None:
        order.insert(0, matched.c.rank)
    # The page's ids first, sorted from the narrow index entries, then those tickets' whole rows: sorting whole
    # rows (descriptions and all) took SQLite half a second at 100,000 tickets.
    ids = list(db.scalars(tickets(Ticket.id).where(*conditions).order_by(*order)
                          .offset((page - 1) * size).limit(size)))
    rows = {t.id: t for t in db.scalars(select(Ticket).where(Ticket.id.in_(ids))
                                        .options(selectinload(Ticket.customer), selectinload(Ticket.organisation)))}
    return QueuePage([rows[i] for i in ids], total, page, pages, counts)
