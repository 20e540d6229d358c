"""The SLA clock (app/helpdesk/clock.py): business minutes across a weekend, a national holiday, the night,
the lunch break and a pause; a breach from the minute after the deadline."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.core.calendar import is_italian_holiday
from app.helpdesk.clock import (
    ROME,
    BusinessCalendar,
    add_business_minutes,
    business_minutes,
    deadline,
    elapsed,
    minutes_late,
    standard_calendar,
)

T = dt.time
HOURS = {d: ((T(9), T(13)), (T(14), T(18))) for d in range(5)}  # Monday-Friday, 8 hours a day
CAL = standard_calendar(HOURS, [dt.date(2026, 12, 7)], is_italian_holiday)  # 7/12: Sant'Ambrogio (local)
NATIONAL = standard_calendar(HOURS, [], is_italian_holiday)


def rome(y: int, m: int, d: int, hh: int, mm: int = 0, ss: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, ss, tzinfo=ROME)


def test_a_weekend_counts_nothing() -> None:
    # Friday 4 December 2026 17:00 -> Monday 7 (a working day on the national calendar) 10:00
    assert business_minutes(NATIONAL, rome(2026, 12, 4, 17), rome(2026, 12, 7, 10)) == 120
    assert add_business_minutes(NATIONAL, rome(2026, 12, 4, 17, 30), 60) == rome(2026, 12, 7, 9, 30)


def test_8_december_is_a_national_holiday() -> None:
    # Monday 7 17:00 -> Wednesday 9 10:00: Tuesday 8 (Immacolata Concezione) is closed
    assert business_minutes(NATIONAL, rome(2026, 12, 7, 17), rome(2026, 12, 9, 10)) == 120
    assert add_business_minutes(NATIONAL, rome(2026, 12, 7, 17, 30), 120) == rome(2026, 12, 9, 10, 30)


def test_a_local_holiday_parameter_closes_the_day_too() -> None:
    # with 7 December closed locally: Friday 4 17:00 -> Wednesday 9 10:00 is 60 + 60 minutes
    assert business_minutes(CAL, rome(2026, 12, 4, 17), rome(2026, 12, 9, 10)) == 120


def test_outside_office_hours_the_clock_waits_for_the_opening() -> None:
    # opened on Saturday evening: nothing runs until Monday 9:00
    assert business_minutes(NATIONAL, rome(2026, 12, 12, 20), rome(2026, 12, 14, 9)) == 0
    assert add_business_minutes(NATIONAL, rome(2026, 12, 12, 20), 30) == rome(2026, 12, 14, 9, 30)
    # opened during the lunch break, and at night
    assert add_business_minutes(NATIONAL, rome(2026, 12, 14, 13, 30), 60) == rome(2026, 12, 14, 15)
    assert add_business_minutes(NATIONAL, rome(2026, 12, 14, 22), 60) == rome(2026, 12, 15, 10)
    # a target ending exactly at the closing is due at the closing, not the next morning
    assert add_business_minutes(NATIONAL, rome(2026, 12, 14, 17), 60) == rome(2026, 12, 14, 18)


def test_a_pause_stops_the_clock_and_moves_the_deadline() -> None:
    start = rome(2026, 12, 14, 9)
    pause = (rome(2026, 12, 14, 10), rome(2026, 12, 14, 11))
    assert deadline(NATIONAL, start, 240) == rome(2026, 12, 14, 13)
    assert deadline(NATIONAL, start, 240, [pause]) == rome(2026, 12, 14, 15)
    assert elapsed(NATIONAL, start, rome(2026, 12, 14, 15), [pause]) == 240
    # still paused: no deadline (the clock is stopped), and the minutes stop growing
    open_pause = (rome(2026, 12, 14, 10), None)
    assert deadline(NATIONAL, start, 240, [open_pause]) is None
    assert elapsed(NATIONAL, start, rome(2026, 12, 15, 12), [open_pause]) == 60
    # a pause after the deadline changes nothing; one over the weekend neither
    assert deadline(NATIONAL, start, 240, [(rome(2026, 12, 14, 16), None)]) == rome(2026, 12, 14, 13)
    weekend = (rome(2026, 12, 18, 18, 30), rome(2026, 12, 21, 8))
    assert deadline(NATIONAL, rome(2026, 12, 18, 17), 120, [weekend]) == rome(2026, 12, 21, 10)


def test_a_breach_starts_at_the_minute_after_the_deadline() -> None:
    due = deadline(NATIONAL, rome(2026, 12, 14, 9), 30)
    assert due == rome(2026, 12, 14, 9, 30)
    assert minutes_late(NATIONAL, due, rome(2026, 12, 14, 9, 29)) == 0
    assert minutes_late(NATIONAL, due, due) == 0
    assert minutes_late(NATIONAL, due, rome(2026, 12, 14, 9, 30, 59)) == 0
    assert minutes_late(NATIONAL, due, rome(2026, 12, 14, 9, 31)) == 1
    # late minutes are business minutes too: the night and 8 December do not count
    assert minutes_late(NATIONAL, rome(2026, 12, 7, 17, 30), rome(2026, 12, 9, 9, 15)) == 45


def test_daylight_saving_time_neither_adds_nor_loses_office_time() -> None:
    # 25 October 2026: clocks go back on a Sunday; Friday 17:00 -> Monday 10:00 is still 120 minutes
    assert business_minutes(NATIONAL, rome(2026, 10, 23, 17), rome(2026, 10, 26, 10)) == 120
    # 28 March 2027 (forward) is Easter Sunday: Easter Monday is a national holiday as well
    assert business_minutes(NATIONAL, rome(2027, 3, 26, 17), rome(2027, 3, 30, 10)) == 120


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError):
        business_minutes(NATIONAL, dt.datetime(2026, 12, 14, 9), rome(2026, 12, 14, 10))
    with pytest.raises(ValueError):
        BusinessCalendar(hours={0: ((T(13), T(9)),)})
    with pytest.raises(ValueError):
        add_business_minutes(BusinessCalendar(hours={}), rome(2026, 12, 14, 9), 10)


@settings(max_examples=60, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2027, 12, 31)),
    minutes=st.integers(min_value=0, max_value=5000),
)
def test_the_deadline_is_exactly_n_business_minutes_away(start: dt.datetime, minutes: int) -> None:
    start = start.replace(second=0, microsecond=0, tzinfo=dt.UTC)
    due = add_business_minutes(CAL, start, minutes)
    assert business_minutes(CAL, start, due) == minutes
    assert deadline(CAL, start, minutes) == due
