"""The agent desk's queue: filters from a query string, the order agents work in, counts per status, pages.

Order: tickets awaiting staff (submitted or in progress) first, then those waiting on the customer, then resolved
ones; within each, by default the one with the least time left on its running SLA clock (`sla_due_at`, stored on
the ticket), and among those without a clock, or with `sort=recent`, the one whose customer wrote last.
With a search text, the best match comes first (kb/helpdesk/ticket_search.py), then that order.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, selectinload

from kb.helpdesk.models import (CATEGORY_MAX, GROUP_MAX, IN_PROGRESS, STATUSES, SUBMITTED, WAITING, Ticket, User,
                                utcnow)
from kb.helpdesk.sla import PRIORITIES
from kb.helpdesk.ticket_search import matches

# Age of a ticket (since it was filed): name -> (at least, less than).
AGES: dict[str, tuple[timedelta | None, timedelta | None]] = {
    "<1h": (None, timedelta(hours=1)),
    "<24h": (None, timedelta(hours=24)),
    ">24h": (timedelta(hours=24), None),
    ">7d": (timedelta(days=7), None),
}
AWAITING_STAFF = (SUBMITTED, IN_PROGRESS)
# SLA filters on the running clock: overdue, or due within the hour.
SLA_FILTERS = ("breached", "soon")
SOON = timedelta(hours=1)
SORTS = ("due", "recent")
# The queue's views, beside all tickets: the agent's own, nobody's, their agent group's.
MINE, UNASSIGNED, MY_GROUP = "mine", "unassigned", "group"
VIEWS = (MINE, UNASSIGNED, MY_GROUP)
SEARCH_MAX = 200  # characters of a search text


@dataclass(frozen=True)
class QueueFilter:
    status: str = ""
    category: str = ""
    organisation_id: int | None = None
    group: str = ""
    age: str = ""
    priority: str = ""
    sla: str = ""
    sort: str = ""  # "" is "due"
    view: str = ""  # one of VIEWS, or "" for every ticket the agent may see
    text: str = ""  # words the ticket's text holds (subject, description, every reply)

    def query_args(self, **changes) -> dict[str, str]:
        """The filter as query-string arguments (unset ones left out), with `changes` applied."""
        values = {"q": self.text, "view": self.view, "status": self.status, "category": self.category,
                  "org": self.organisation_id or "", "group": self.group, "age": self.age, "priority": self.priority,
                  "sla": self.sla, "sort": self.sort, **changes}
        return {k: str(v) for k, v in values.items() if v not in ("", None)}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # in no category, group or ticket text the queue could match


def parse_filter(args: Mapping[str, str]) -> QueueFilter:
    """A filter from query-string arguments; values that cannot match anything are ignored, and the free-text ones
    (category, group, search text) are read without control characters."""
    args = {key: _CONTROL.sub("", value) for key, value in args.items()}
    status = args.get("status", "")
    org = args.get("org", "")
    return QueueFilter(status=status if status in STATUSES else "",
                       category=args.get("category", "")[:CATEGORY_MAX],
                       organisation_id=int(org) if org.isdigit() and len(org) < 10 else None,
                       group=args.get("group", "")[:GROUP_MAX],
                       age=args.get("age", "") if args.get("age", "") in AGES else "",
                       priority=args.get("priority", "") if args.get("priority", "") in PRIORITIES else "",
                       sla=args.get("sla", "") if args.get("sla", "") in SLA_FILTERS else "",
                       sort=args.get("sort", "") if args.get("sort", "") in SORTS else "",
                       view=args.get("view", "") if args.get("view", "") in VIEWS else "",
                       text=" ".join(args.get("q", "")[:SEARCH_MAX].split()))


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    total: int
    page: int
    pages: int
    counts: dict[str, int]  # per status, under the other filters
    views: dict[str, int]  # per view ("" for all), under the filters but the status


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
    if chosen.priority:
        conditions.append(Ticket.priority == chosen.priority)
    if chosen.sla == "breached":
        conditions.append(Ticket.sla_due_at < now)
    elif chosen.sla == "soon":
        conditions.append(Ticket.sla_due_at >= now)
        conditions.append(Ticket.sla_due_at < now + SOON)
    return conditions


def _view(view: str, user: User | None) -> list:
    if view == MINE:
        return [Ticket.owner_id == (user.id if user else None)]
    if view == UNASSIGNED:
        return [Ticket.owner_id.is_(None)]
    if view == MY_GROUP:
        return [Ticket.agent_group == (user.agent_group if user else "")]
    return []


def _view_counts(db: Session, conditions: list, user: User | None, tickets) -> dict[str, int]:
    """How many tickets each view holds under `conditions`, counted over `tickets` (the tickets or a search's)."""
    mine = Ticket.owner_id == (user.id if user else None)
    group = Ticket.agent_group == (user.agent_group if user else "")
    row = db.execute(tickets.with_only_columns(func.count(), func.count(case((mine, 1))),
                                               func.count(case((Ticket.owner_id.is_(None), 1))),
                                               func.count(case((group, 1)))).where(*conditions)).one()
    return {"": row[0], MINE: row[1], UNASSIGNED: row[2], MY_GROUP: row[3]}


def queue(db: Session, chosen: QueueFilter, page: int = 1, size: int = 25, now: datetime | None = None,
          user: User | None = None, visible: list | tuple = ()) -> QueuePage:
    """A page of the tickets `chosen` picks for `user` (whose views "mine" and "group" are), among those the
    conditions `visible` allow (kb.helpdesk.access.visible_tickets)."""
    now = now or utcnow()
    conditions = [*visible, *_conditions(chosen, now)]
    matched = matches(db, chosen.text) if chosen.text else None
    unranked = matches(db, chosen.text, ranked=False) if chosen.text else None  # (counting needs no scores)

    def tickets(*columns, found=matched):
        query = select(*columns).select_from(Ticket)
        return query.join(found, found.c.ticket_id == Ticket.id) if found is not None else query

    views = _view_counts(db, conditions, user, tickets(found=unranked))
    conditions += _view(chosen.view, user)
    counts = dict.fromkeys(STATUSES, 0)
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
    by_due = () if chosen.sort == "recent" else (Ticket.sla_due_at.is_(None), Ticket.sla_due_at)
    order = [stage, *by_due, Ticket.last_customer_at.desc(), Ticket.id.desc()]
    if matched is not None:
        order.insert(0, matched.c.rank)
    # The page's ids first, sorted on the covering indexes' columns alone, then only those tickets' rows: sorting
    # whole rows (descriptions, deflections) of 100,000 tickets costs several times more (bench/sla_queue.py,
    # bench/desk_queue.py).
    ids = list(db.scalars(tickets(Ticket.id).where(*conditions).order_by(*order)
                          .offset((page - 1) * size).limit(size)))
    rows = {t.id: t for t in db.scalars(select(Ticket).where(Ticket.id.in_(ids))
                                        .options(selectinload(Ticket.customer), selectinload(Ticket.organisation),
                                                 selectinload(Ticket.owner)))}
    return QueuePage([rows[i] for i in ids], total, page, pages, counts, views)
