"""Business calendars: hand-computed deadlines and hypothesis properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtool.calendar import (
    BusinessCalendar,
    CalendarSpec,
    always_open,
    hours_by_weekday,
    parse_spans,
)
from cmtool.model.timefmt import parse_time

HOUR = 3600.0

CN = BusinessCalendar(
    CalendarSpec(
        "cn",
        "Asia/Shanghai",
        hours_by_weekday({"mon-fri": "09:00-12:00, 13:00-18:00"}),
        country="CN",
    )
)
UK = BusinessCalendar(
    CalendarSpec(
        "uk",
        "Europe/London",
        hours_by_weekday({"mon-fri": "09:00-17:00"}),
        country="GB",
        subdiv="ENG",
    )
)
LONDON_24X7 = BusinessCalendar(always_open("ldn", "Europe/London"))


def t(text: str) -> datetime:
    return parse_time(text)


def test_friday_1730_with_8_business_hours_is_due_monday_1730():
    # Friday 17:30-18:00 = 0.5 h; Monday 09-12 = 3 h (3.5); 13:00 + 4.5 h = 17:30.
    due = CN.add(t("2025-11-21T17:30:00+08:00"), 8 * HOUR)
    assert due == t("2025-11-24T17:30:00+08:00")
    assert CN.seconds_between(t("2025-11-21T17:30:00+08:00"), due) == 8 * HOUR


def test_china_make_up_sunday_is_a_working_day():
    assert CN.is_working_day(date(2025, 9, 28))  # Sunday, make-up workday
    assert CN.is_working_day(date(2025, 10, 11))  # Saturday, make-up workday
    assert not CN.is_working_day(date(2025, 10, 8))  # Wednesday, day off
    # Friday 17:00 + 8 h: 1 h Friday, Saturday off, Sunday 28th 09-12 (4 h), 13:00 + 4 h.
    assert CN.add(t("2025-09-26T17:00:00+08:00"), 8 * HOUR) == t("2025-09-28T17:00:00+08:00")


def test_china_national_day_2025_has_no_working_time():
    # Tuesday 30 Sep 14:00 + 8 h: 4 h that day; 1-8 Oct closed; Thursday 9 Oct 09-12, 13-14.
    due = CN.add(t("2025-09-30T14:00:00+08:00"), 8 * HOUR)
    assert due == t("2025-10-09T14:00:00+08:00")
    assert CN.seconds_between(t("2025-10-01T00:00:00+08:00"), t("2025-10-09T09:00:00+08:00")) == 0
    # The make-up Saturday 11 Oct counts: Friday 10 Oct 17:00 + 2 h -> Saturday 10:00.
    assert CN.add(t("2025-10-10T17:00:00+08:00"), 2 * HOUR) == t("2025-10-11T10:00:00+08:00")


def test_london_dst_change_business_and_wall_time():
    # BST ends Sunday 26 Oct 2025 02:00. Friday 16:00 BST + 2 business hours:
    # 1 h on Friday, then Monday 09:00 GMT + 1 h = 10:00+00:00.
    due = UK.add(t("2025-10-24T16:00:00+01:00"), 2 * HOUR)
    assert due.isoformat() == "2025-10-27T10:00:00+00:00"
    # 24 real hours from Saturday noon BST end at Sunday 11:00 GMT (the clock went back).
    due = LONDON_24X7.add(t("2025-10-25T12:00:00+01:00"), 24 * HOUR)
    assert due.isoformat() == "2025-10-26T11:00:00+00:00"
    # That Sunday has 25 hours.
    assert (
        LONDON_24X7.seconds_between(t("2025-10-26T00:00:00+01:00"), t("2025-10-27T00:00:00+00:00"))
        == 25 * HOUR
    )


def test_english_bank_holiday_and_new_year_are_closed():
    assert not UK.is_working_day(date(2025, 12, 25))
    assert not UK.is_working_day(date(2025, 12, 26))
    # Across a year boundary: Wed 31 Dec 16:00 + 2 h -> 1 h, New Year closed, Fri 2 Jan 10:00.
    assert UK.add(t("2025-12-31T16:00:00+00:00"), 2 * HOUR).isoformat() == "2026-01-02T10:00:00+00:00"


def test_extra_dates_from_the_file():
    spec = CalendarSpec(
        "x",
        "UTC",
        hours_by_weekday({"mon-fri": "09:00-17:00"}),
        extra_holidays=frozenset({date(2025, 11, 24)}),
        extra_workdays=frozenset({date(2025, 11, 22)}),
    )
    cal = BusinessCalendar(spec)
    assert cal.is_working_day(date(2025, 11, 22))  # a Saturday made working
    assert not cal.is_working_day(date(2025, 11, 24))  # a Monday closed
    assert cal.add(t("2025-11-21T16:00:00+00:00"), 2 * HOUR).isoformat() == "2025-11-22T10:00:00+00:00"


def test_parse_spans_rejects_bad_ranges():
    assert parse_spans("09:00-12:00, 13:00-18:00") == ((540, 720), (780, 1080))
    for bad in ("9-17", "18:00-09:00", "09:00-12:00,11:00-13:00", "09:61-10:00"):
        with pytest.raises(ValueError):
            parse_spans(bad)


moments = st.datetimes(
    min_value=datetime(2024, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.just(timezone.utc),
)
amounts = st.floats(min_value=1, max_value=400 * HOUR)
calendars = st.sampled_from([CN, UK, LONDON_24X7])


@settings(max_examples=300, deadline=None)
@given(calendars, moments, amounts)
def test_add_then_measure_back_gives_the_same_amount(cal, start, amount):
    due = cal.add(start, amount)
    assert cal.seconds_between(start, due) == pytest.approx(amount, abs=1e-3)


@settings(max_examples=300, deadline=None)
@given(calendars, moments, amounts)
def test_a_deadline_is_never_inside_non_working_time(cal, start, amount):
    due = cal.add(start, amount)
    assert cal.is_working_time(due)
    assert due >= start


@settings(max_examples=200, deadline=None)
@given(calendars, moments, amounts, st.floats(min_value=0, max_value=100 * HOUR))
def test_more_time_never_gives_an_earlier_deadline(cal, start, amount, more):
    assert cal.add(start, amount + more) >= cal.add(start, amount)
    later = start + timedelta(seconds=more)
    assert cal.seconds_between(start, later) >= 0
