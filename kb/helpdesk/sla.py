"""Service-level targets in business time: parsing the settings, due times, and the state of a clock.

Pure functions over naive UTC datetimes (as the database keeps them); business hours are read in their own time
zone, so a due time is right across nights, weekends and daylight-saving changes.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

PRIORITIES = ("P1", "P2", "P3", "P4")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LONGEST_TARGET = timedelta(days=366)
_TARGET_RE = re.compile(r"^(P[1-4])\s*=\s*(\d+(?:\.\d+)?)\s*(m|min|h|d)$", re.IGNORECASE)
_DAYS_RE = re.compile(r"^([a-z]{3})(?:-([a-z]{3}))?$")
_SPAN_RE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_UNITS = {"m": 1, "min": 1, "h": 60, "d": 24 * 60}


def parse_targets(text: str) -> dict[str, timedelta]:
    """{"P1": 1 h, ...} from "P1=1h, P2=4h, P3=8h, P4=24h" (units m, h, d = 24 h); every priority once."""
    targets: dict[str, timedelta] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        match = _TARGET_RE.match(part)
        if not match:
            raise ValueError(f"must be like 'P1=1h, P2=4h, P3=8h, P4=24h' (units m, h, d), not {part!r}")
        priority, amount = match.group(1).upper(), float(match.group(2)) * _UNITS[match.group(3).lower()]
        if priority in targets:
            raise ValueError(f"names {priority} twice")
        if not 0 < amount <= LONGEST_TARGET.total_seconds() / 60:
            raise ValueError(f"needs {priority} above 0 and at most {LONGEST_TARGET.days} days, not {part!r}")
        targets[priority] = timedelta(minutes=amount)
    missing = [p for p in PRIORITIES if p not in targets]
    if missing:
        raise ValueError(f"must give a target for every priority; missing {', '.join(missing)}")
    return targets


def parse_priorities(text: str) -> frozenset[str]:
    """A set of priorities from "P1, P2" (empty: none)."""
    chosen = [p.strip().upper() for p in (text or "").split(",") if p.strip()]
    wrong = [p for p in chosen if p not in PRIORITIES]
    if wrong:
        raise ValueError(f"must list priorities among {', '.join(PRIORITIES)}, not {', '.join(wrong)}")
    return frozenset(chosen)


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday (Monday first) as (start, end) minutes after local midnight; `zone` None: 24/7."""

    week: tuple[tuple[tuple[int, int], ...], ...] = ((),) * 7
    zone: ZoneInfo | None = None

    @property
    def always(self) -> bool:
        return self.zone is None


ALWAYS = BusinessHours()


def parse_zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"must be an IANA time zone like 'Europe/Sofia' or 'UTC', not {name!r}") from None


def parse_business_hours(text: str, zone: str = "UTC") -> BusinessHours:
    """Hours from "Mon-Fri 09:00-18:00; Sat 10:00-14:00" (several spans a day allowed); empty text: 24/7."""
    if not (text or "").strip():
        return ALWAYS
    week: list[list[tuple[int, int]]] = [[] for _ in DAYS]
    for part in filter(None, (p.strip() for p in text.split(";"))):
        days_text, *spans = part.split()
        days = _days(days_text, part)
        if not spans:
            raise ValueError(f"needs opening times after the days, like 'Mon-Fri 09:00-18:00', not {part!r}")
        for span in spans:
            start, end = _span(span)
            for day in days:
                week[day].append((start, end))
    for spans in week:
        spans.sort()
        if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
            raise ValueError(f"has overlapping opening times in {text!r}")
    return BusinessHours(tuple(tuple(s) for s in week), parse_zone(zone or "UTC"))


def _days(text: str, part: str) -> list[int]:
    match = _DAYS_RE.match(text.lower())
    if not match or match.group(1) not in DAYS or (match.group(2) and match.group(2) not in DAYS):
        raise ValueError(f"must start each part with days like 'Mon-Fri' or 'Sat' (Mon..Sun), not {part!r}")
    first = DAYS.index(match.group(1))
    last = DAYS.index(match.group(2)) if match.group(2) else first
    if last < first:
        raise ValueError(f"needs days in week order (Mon..Sun), not {text!r}")
    return list(range(first, last + 1))


def _span(text: str) -> tuple[int, int]:
    match = _SPAN_RE.match(text)
    if not match:
        raise ValueError(f"must give opening times like '09:00-18:00', not {text!r}")
    h1, m1, h2, m2 = map(int, match.groups())
    start, end = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or not 0 <= start < end <= 24 * 60:
        raise ValueError(f"needs a start before the end within one day (00:00-24:00), not {text!r}")
    return start, end


def _local(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    """The UTC moment of `minutes` after midnight on `day` in `zone` (24:00 is the next midnight)."""
    moment = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return moment.replace(tzinfo=zone).astimezone(timezone.utc)


def add_business_time(start: datetime, amount: timedelta, hours: BusinessHours) -> datetime:
    """When `amount` of open time has passed after `start` (naive UTC, and so is the answer)."""
    if hours.always:
        return start + amount
    weekly = sum(end - begin for spans in hours.week for begin, end in spans)
    if weekly == 0:
        raise ValueError("business hours have no opening time")
    cursor = start.replace(tzinfo=timezone.utc)
    remaining = amount
    first_day = cursor.astimezone(hours.zone).date() - timedelta(days=1)  # a span may have begun the day before
    weeks = math.ceil(amount.total_seconds() / 60 / weekly) + 2
    for offset in range(weeks * 7 + 1):
        day = first_day + timedelta(days=offset)
        for begin, end in hours.week[day.weekday()]:
            opens, closes = _local(day, begin, hours.zone), _local(day, end, hours.zone)
            if closes <= cursor:
                continue
            cursor = max(cursor, opens)
            if remaining <= closes - cursor:
                return (cursor + remaining).replace(tzinfo=None)
            remaining -= closes - cursor
            cursor = closes
    raise AssertionError("unreachable: every week has opening time")  # pragma: no cover


# What a clock says: running (time left), breached (overdue, still running), met or late (stopped by the event
# it waited for), stopped (the ticket was resolved without it; `span` past the due time), none (no target).
RUNNING, BREACHED, MET, LATE, STOPPED, NONE = "running", "breached", "met", "late", "stopped", "none"


@dataclass(frozen=True)
class ClockState:
    state: str
    due: datetime | None = None
    span: timedelta = timedelta(0)  # time left (running), overdue (breached), early or late (met, late)

    @property
    def breached(self) -> bool:
        return self.state in (BREACHED, LATE) or (self.state == STOPPED and self.span > timedelta(0))


def clock_state(due: datetime | None, done_at: datetime | None, now: datetime,
                stopped_at: datetime | None = None) -> ClockState:
    """A clock due at `due`, stopped by its event at `done_at` (or by the end of the ticket at `stopped_at`)."""
    if due is None:
        return ClockState(NONE)
    if done_at is not None:
        return ClockState(MET, due, due - done_at) if done_at <= due else ClockState(LATE, due, done_at - due)
    if stopped_at is not None:
        return ClockState(STOPPED, due, max(stopped_at - due, timedelta(0)))
    return ClockState(RUNNING, due, due - now) if now <= due else ClockState(BREACHED, due, now - due)
