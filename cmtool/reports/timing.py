"""Business time for KPIs, on top of the rules' business calendar."""

from __future__ import annotations

from datetime import datetime

from cmtool.calendar import BusinessCalendar, CalendarSpec, hours_by_weekday

# Used only when rules.yaml defines no calendar: office hours, no public holidays.
FALLBACK_HOURS = {"mon-fri": "09:00-18:00"}


class KpiCalendar:
    """Business seconds between two instants, and FCA-style business-day deadlines."""

    def __init__(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.zone = calendar.zone

    @classmethod
    def fallback(cls, timezone: str) -> KpiCalendar:
        spec = CalendarSpec("office-hours", timezone, hours_by_weekday(FALLBACK_HOURS))
        return cls(BusinessCalendar(spec))

    def business_seconds(self, start: datetime, end: datetime) -> float:
        return max(0.0, self.calendar.seconds_between(start, end))

    def business_day_end(self, received: datetime, days: int) -> datetime:
        """Close of business on the ``days``-th business day after the day received
        (a complaint received after hours counts as received the next business day)."""
        day = self.calendar.business_day_of(received)
        for _ in range(days):
            day = self.calendar.next_working_day(day)
        return self.calendar.end_of_day(day)
