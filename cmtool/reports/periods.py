"""Reporting periods: ``2026-10`` (month), ``2026-Q3``, ``2026-H1``, ``2026`` or
``2026-10-01..2026-10-15`` (days, both included). A period is half-open
``[start, end)`` in the reporting time zone, so a case filed at midnight belongs to
exactly one period."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from cmtool.errors import UsageError

KINDS = ("month", "quarter", "half", "year", "days")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_HALF = re.compile(r"^(\d{4})-?H([12])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")
_DAYS = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")
_SPAN = {"month": 1, "quarter": 3, "half": 6, "year": 12}
INSTANT = timedelta(microseconds=1)  # the smallest step of a datetime


@dataclass(frozen=True)
class Period:
    kind: str
    first: date  # first day
    last: date  # last day, included
    zone: tzinfo

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), self.zone)

    @property
    def end(self) -> datetime:
        """The instant after the period (exclusive bound)."""
        return datetime.combine(self.last + timedelta(days=1), time(), self.zone)

    def until(self, as_at: datetime) -> datetime:
        """The exclusive bound of the figures evaluated at ``as_at``: the period end,
        or for a running period just after ``as_at`` (what happened at that instant
        counts); never before the start (a period not begun yet is empty)."""
        return max(self.start, min(self.end, as_at + INSTANT))

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.first:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "half":
            return f"{self.first.year}-H{1 if self.first.month == 1 else 2}"
        if self.kind == "year":
            return str(self.first.year)
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods later (negative: earlier), of the same length."""
        if self.kind in _SPAN:
            first = _add_months(self.first, steps * _SPAN[self.kind])
            last = _add_months(first, _SPAN[self.kind]) - timedelta(days=1)
            return Period(self.kind, first, last, self.zone)
        delta = timedelta(days=self.days * steps)
        return Period(self.kind, self.first + delta, self.last + delta, self.zone)

    def previous(self, count: int) -> list[Period]:
        """The ``count`` periods before this one, oldest first."""
        return [self.shifted(-step) for step in range(count, 0, -1)]

    def to_dict(self) -> dict[str, str]:
        return {
            "label": self.label,
            "kind": self.kind,
            "first_day": self.first.isoformat(),
            "last_day": self.last.isoformat(),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


def parse_period(text: str, zone: tzinfo) -> Period:
    value = text.strip()
    try:
        if match := _MONTH.match(value):
            year, month = int(match[1]), int(match[2])
            first = date(year, month, 1)
            return Period("month", first, _add_months(first, 1) - timedelta(days=1), zone)
        if match := _QUARTER.match(value):
            first = date(int(match[1]), 3 * int(match[2]) - 2, 1)
            return Period("quarter", first, _add_months(first, 3) - timedelta(days=1), zone)
        if match := _HALF.match(value):
            first = date(int(match[1]), 1 if match[2] == "1" else 7, 1)
            return Period("half", first, _add_months(first, 6) - timedelta(days=1), zone)
        if match := _YEAR.match(value):
            year = int(match[1])
            return Period("year", date(year, 1, 1), date(year, 12, 31), zone)
        if match := _DAYS.match(value):
            first, last = date.fromisoformat(match[1]), date.fromisoformat(match[2])
            if last < first:
                raise ValueError("the last day is before the first")
            return Period("days", first, last, zone)
    except ValueError as exc:
        raise UsageError(f"--period {text!r}: {exc}") from None
    raise UsageError(
        f"--period {text!r} is not a period",
        hint="use 2026-10 (month), 2026-Q3, 2026-H1, 2026 or 2026-10-01..2026-10-15",
    )


def current_period(kind: str, moment: datetime) -> Period:
    """The period of ``kind`` (month, quarter, half, year) that contains ``moment``."""
    day = moment.date()
    span = _SPAN.get(kind, 1)
    first_month = (day.month - 1) // span * span + 1
    first = date(day.year, first_month, 1)
    real_kind = kind if kind in _SPAN else "month"
    return Period(real_kind, first, _add_months(first, span) - timedelta(days=1), moment.tzinfo)


def last_complete_period(kind: str, moment: datetime) -> Period:
    """The latest period of ``kind`` that ended at or before ``moment``."""
    return current_period(kind, moment).shifted(-1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
