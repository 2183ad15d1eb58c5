"""SLA targets in business time (kb/helpdesk/sla.py): parsing, due times across nights, weekends and DST."""
from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from kb.config import Settings, load_settings
from kb.errors import ConfigError
from kb.helpdesk.sla import (ALWAYS, BREACHED, LATE, MET, NONE, RUNNING, STOPPED, add_business_time, clock_state,
                             parse_business_hours, parse_priorities, parse_targets)

H = timedelta(hours=1)
OFFICE = parse_business_hours("Mon-Fri 09:00-18:00", "UTC")


def test_targets_parse_every_priority_in_minutes_hours_and_days():
    targets = parse_targets("P1=30m, P2=1.5h, p3 = 8h, P4=2d")
    assert targets == {"P1": timedelta(minutes=30), "P2": timedelta(minutes=90), "P3": 8 * H, "P4": 48 * H}


@pytest.mark.parametrize("text, says", [("P1=1h, P2=4h, P3=8h", "missing P4"),
                                        ("P1=1h, P1=2h, P2=4h, P3=8h, P4=1d", "names P1 twice"),
                                        ("P1=1 hour, P2=4h, P3=8h, P4=1d", "must be like"),
                                        ("P1=0h, P2=4h, P3=8h, P4=1d", "above 0"),
                                        ("P5=1h", "must be like")])
def test_bad_targets_say_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        parse_targets(text)


def test_bad_settings_are_reported_once_naming_each_setting():
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={"KB_SLA_FIRST_RESPONSE": "P1=1h", "KB_BUSINESS_HOURS": "Mon-Fri 9-18",
                               "KB_BUSINESS_TIMEZONE": "Mars/Olympus", "KB_SLA_ALWAYS_ON": "P0",
                               "KB_PRIORITY_CATEGORIES": "security=urgent", "KB_PRIORITY_DEFAULT": "P9"})
    problems = " ".join(caught.value.problems)
    for name in ("sla_first_response", "business_hours", "business_timezone", "sla_always_on",
                 "priority_categories", "priority_default"):
        assert f"setting {name!r}" in problems
    assert "KB_BUSINESS_HOURS" in problems  # where the bad value came from


def test_the_defaults_are_24_7_with_the_documented_targets():
    settings = Settings()
    assert parse_business_hours(settings.business_hours, settings.business_timezone) is ALWAYS
    assert parse_targets(settings.sla_first_response)["P1"] == H


@pytest.mark.parametrize("text, says", [("Mon-Fri", "needs opening times"), ("Fri-Mon 09:00-18:00", "week order"),
                                        ("Mon-Fri 18:00-09:00", "start before the end"),
                                        ("Mon 09:00-12:00 11:00-13:00", "overlapping"),
                                        ("Lun 09:00-12:00", "must start each part with days"),
                                        ("Mon 9h-12h", "like '09:00-18:00'")])
def test_bad_business_hours_say_what_is_wrong(text, says):
    with pytest.raises(ValueError, match=says):
        parse_business_hours(text)


def test_business_hours_with_several_parts_and_spans():
    hours = parse_business_hours("Mon-Fri 08:00-12:00 13:00-18:00; Sat 09:00-24:00", "Europe/Sofia")
    assert hours.week[0] == ((480, 720), (780, 1080)) and hours.week[5] == ((540, 1440),) and hours.week[6] == ()
    assert parse_priorities("p1, P2") == {"P1", "P2"}


def test_24_7_adds_plain_time():
    assert add_business_time(datetime(2026, 3, 6, 17, 30), 4 * H, ALWAYS) == datetime(2026, 3, 6, 21, 30)


def test_filed_friday_17_30_is_due_monday_morning():
    friday = datetime(2026, 3, 6, 17, 30)  # a Friday
    assert add_business_time(friday, 4 * H, OFFICE) == datetime(2026, 3, 9, 12, 30)  # 30 min Friday, 3.5 h Monday
    assert add_business_time(friday, 30 * timedelta(minutes=1), OFFICE) == datetime(2026, 3, 6, 18, 0)
    assert add_business_time(friday, 10 * H, OFFICE) == datetime(2026, 3, 10, 9, 30)  # over a whole Monday


def test_filed_at_night_or_at_the_weekend_starts_at_the_next_opening():
    assert add_business_time(datetime(2026, 3, 4, 2, 0), H, OFFICE) == datetime(2026, 3, 4, 10, 0)
    assert add_business_time(datetime(2026, 3, 7, 12, 0), H, OFFICE) == datetime(2026, 3, 9, 10, 0)  # Saturday
    assert add_business_time(datetime(2026, 3, 4, 20, 0), H, OFFICE) == datetime(2026, 3, 5, 10, 0)
    lunch = parse_business_hours("Mon-Fri 08:00-12:00 13:00-18:00")
    assert add_business_time(datetime(2026, 3, 4, 11, 30), H, lunch) == datetime(2026, 3, 4, 13, 30)


def test_a_long_target_spans_weeks():
    assert add_business_time(datetime(2026, 3, 2, 9, 0), 90 * H, OFFICE) == datetime(2026, 3, 13, 18, 0)


def test_business_hours_follow_the_local_clock_across_the_dst_change():
    sofia = parse_business_hours("Mon-Fri 09:00-18:00", "Europe/Sofia")
    # Friday 27 March 2026, 17:00 in Sofia (EET, UTC+2) = 15:00 UTC; clocks go forward on Sunday 29 March.
    due = add_business_time(datetime(2026, 3, 27, 15, 0), 4 * H, sofia)
    assert due == datetime(2026, 3, 30, 9, 0)  # Monday 12:00 in Sofia, now EEST (UTC+3)
    # And back: Friday 23 October 2026 17:00 EEST = 14:00 UTC; Monday 26 October 12:00 EET = 10:00 UTC.
    assert add_business_time(datetime(2026, 10, 23, 14, 0), 4 * H, sofia) == datetime(2026, 10, 26, 10, 0)


def test_hours_spanning_the_night_of_the_change_count_real_time():
    always_open = parse_business_hours("Sun 00:00-24:00", "Europe/Sofia")
    # Sunday 29 March 2026 has 23 hours in Sofia: opened 22:00 UTC on Saturday, it closes at 21:00 UTC.
    assert add_business_time(datetime(2026, 3, 28, 22, 0), 23 * H, always_open) == datetime(2026, 3, 29, 21, 0)
    # The 24th hour is the first of the next Sunday, which opens at 21:00 UTC (midnight EEST).
    assert add_business_time(datetime(2026, 3, 28, 22, 0), 24 * H, always_open) == datetime(2026, 4, 4, 22, 0)


def test_clock_states():
    due, now = datetime(2026, 3, 9, 12, 0), datetime(2026, 3, 9, 10, 0)
    assert clock_state(None, None, now).state == NONE
    running = clock_state(due, None, now)
    assert (running.state, running.span, running.breached) == (RUNNING, 2 * H, False)
    breached = clock_state(due, None, due + 35 * timedelta(minutes=1))
    assert (breached.state, breached.span, breached.breached) == (BREACHED, timedelta(minutes=35), True)
    assert clock_state(due, now, due + H).state == MET
    late = clock_state(due, due + H, due + 5 * H)
    assert (late.state, late.span, late.breached) == (LATE, H, True)
    assert clock_state(due, None, due + H, stopped_at=now).state == STOPPED
    assert not clock_state(due, None, due + H, stopped_at=now).breached
    missed = clock_state(due, None, due + 5 * H, stopped_at=due + H)
    assert (missed.state, missed.span, missed.breached) == (STOPPED, H, True)
