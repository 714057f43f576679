"""Business calendars: working hours per weekday in a time zone, public holidays
(from the ``holidays`` package, with China's make-up workdays), extra dates, and
the arithmetic SLA clocks need: business seconds between two instants, and the
instant a number of business seconds after another.

Pure: no files. Each calendar is built once per rules load and caches one table
per year (working spans of every day as epoch seconds, and a running total), so
``seconds_between`` and ``add`` cost a bisect, not a walk over days.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cmtool.errors import DataError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Span = tuple[int, int]  # minutes after local midnight, end exclusive (24:00 = 1440)
MAX_EMPTY_YEARS = 20  # a calendar with no working time this far ahead is a data error


@dataclass(frozen=True)
class CalendarSpec:
    """What rules.yaml says about one calendar (validated by the rules loader)."""

    name: str
    timezone: str
    hours: tuple[tuple[Span, ...], ...]  # one entry per weekday, Monday first
    country: str | None = None
    subdiv: str | None = None
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()
    makeup_hours: tuple[Span, ...] | None = None  # hours on a make-up workday (default: Monday's)


@dataclass
class _Year:
    spans: list[tuple[tuple[float, float], ...]]  # per day of the year: working spans as epochs
    cum: list[float]  # cum[i] = working seconds before day i; len(days) + 1
    midnights: list[float]  # local midnight of each day as an epoch; len(days) + 1

    @property
    def total(self) -> float:
        return self.cum[-1]


DaysOff = tuple[frozenset[date], frozenset[date]]  # (public holidays, make-up workdays)
HolidayKey = tuple[str, str | None, int]  # (country, subdivision, year)


def holiday_table(country: str, subdiv: str | None, year: int) -> DaysOff:
    """The public holidays and make-up workdays of one year, from the holidays package
    (NotImplementedError for a country or subdivision it does not know)."""
    import holidays

    table = holidays.country_holidays(country, subdiv=subdiv, years=year)
    # China (and a few others) move weekends: holidays lists them here.
    makeup = frozenset(d for d in getattr(table, "weekend_workdays", ()) if d.year == year)
    return frozenset(table), makeup


class PublicHolidays:
    """Holiday tables by (country, subdivision, year), each asked of the holidays
    package once. Importing that package and building its first table costs about
    half a second, so tables may be handed in at the start (``known``, a cache's)
    and ``on_new`` is told of each table built here, for the cache to keep."""

    def __init__(
        self,
        known: Mapping[HolidayKey, DaysOff] | None = None,
        on_new: Callable[[HolidayKey, DaysOff], None] | None = None,
    ) -> None:
        self._tables: dict[HolidayKey, DaysOff] = dict(known or {})
        self._on_new = on_new

    def days(self, country: str, subdiv: str | None, year: int) -> DaysOff:
        key = (country, subdiv, year)
        found = self._tables.get(key)
        if found is None:
            found = self._tables[key] = holiday_table(country, subdiv, year)
            if self._on_new is not None:
                self._on_new(key, found)
        return found


class BusinessCalendar:
    """Working time of one calendar; every method takes and gives aware datetimes."""

    def __init__(self, spec: CalendarSpec, public: PublicHolidays | None = None) -> None:
        self.spec = spec
        self.name = spec.name
        self.zone = ZoneInfo(spec.timezone)
        self.public = public or PublicHolidays()
        self._years: dict[int, _Year] = {}
        self._last: tuple[int, _Year | None] = (0, None)  # the year asked about last
        self._nth: dict[tuple[date, int], date] = {}
        self._holidays: dict[int, DaysOff] = {}

    # -- days --------------------------------------------------------------
    def _public_days(self, year: int) -> DaysOff:
        """(public holidays, make-up workdays) of ``year``, built once."""
        if year not in self._holidays:
            days: DaysOff = (frozenset(), frozenset())
            if self.spec.country:
                try:
                    days = self.public.days(self.spec.country, self.spec.subdiv, year)
                except NotImplementedError as exc:
                    raise DataError(
                        f"rules.yaml: calendar {self.name}: {exc}", hint="run: cmtool validate"
                    ) from None
            self._holidays[year] = days
        return self._holidays[year]

    def day_hours(self, day: date) -> tuple[Span, ...]:
        """Working spans of a local date, holidays and make-up days applied."""
        spec = self.spec
        if day in spec.extra_workdays:
            return spec.hours[day.weekday()] or self._makeup_hours()
        if day in spec.extra_holidays:
            return ()
        off, makeup = self._public_days(day.year)
        if day in off:
            return ()
        if day in makeup:
            return self._makeup_hours()
        return spec.hours[day.weekday()]

    def _makeup_hours(self) -> tuple[Span, ...]:
        if self.spec.makeup_hours is not None:
            return self.spec.makeup_hours
        return next((h for h in self.spec.hours if h), ())

    def is_working_day(self, day: date) -> bool:
        return bool(self.day_hours(day))

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            spans, cum, midnights = [], [0.0], []
            day = date(year, 1, 1)
            while day.year == year:
                midnight = datetime.combine(day, time(0), self.zone)
                midnights.append(midnight.timestamp())
                epochs = tuple(
                    (
                        (midnight + timedelta(minutes=start)).timestamp(),
                        (midnight + timedelta(minutes=end)).timestamp(),
                    )
                    for start, end in self.day_hours(day)
                )
                spans.append(epochs)
                cum.append(cum[-1] + sum(end - start for start, end in epochs))
                day += timedelta(days=1)
            midnights.append(datetime.combine(day, time(0), self.zone).timestamp())
            table = self._years[year] = _Year(spans, cum, midnights)
        return table

    # -- instants ----------------------------------------------------------
    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def _position(self, epoch: float) -> tuple[int, float]:
        """(year, working seconds from that year's start up to ``epoch``)."""
        year, table = self._last
        if table is None or not table.midnights[0] <= epoch < table.midnights[-1]:
            year = datetime.fromtimestamp(epoch, self.zone).year
            table = self._year(year)
            self._last = (year, table)
        index = bisect_right(table.midnights, epoch) - 1
        inside = 0.0
        for start, end in table.spans[index]:
            if epoch > start:
                inside += (end if epoch > end else epoch) - start
        return year, table.cum[index] + inside

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Working seconds from ``start`` to ``end`` (negative when end is earlier)."""
        a, b = start.timestamp(), end.timestamp()
        if b < a:
            return -self.seconds_between(end, start)
        year_a, pos_a = self._position(a)
        year_b, pos_b = self._position(b)
        if year_a == year_b:
            return pos_b - pos_a
        between = sum(self._year(y).total for y in range(year_a + 1, year_b))
        return self._year(year_a).total - pos_a + between + pos_b

    def add(self, start: datetime, seconds: float) -> datetime:
        """The earliest instant with ``seconds`` of working time after ``start``.

        The result always lies in a working span (its end included), so a
        deadline never falls in the night, a weekend or a holiday.
        """
        if seconds < 0:
            raise ValueError("add() takes a non-negative amount of working time")
        if seconds == 0:
            return self.local(start)
        year, position = self._position(start.timestamp())
        target = position + seconds
        empty = 0
        while True:
            table = self._year(year)
            if target <= table.total:
                break
            empty = empty + 1 if table.total == 0 else 0
            if empty > MAX_EMPTY_YEARS:
                raise ValueError(f"calendar {self.name} has no working time after {year}")
            target -= table.total
            year += 1
        index = bisect_left(table.cum, target, lo=1) - 1
        remaining = target - table.cum[index]
        for span_start, span_end in table.spans[index]:
            if remaining <= span_end - span_start:
                return datetime.fromtimestamp(span_start + remaining, self.zone)
            remaining -= span_end - span_start
        raise AssertionError("working-time table is inconsistent")  # pragma: no cover

    def is_working_time(self, moment: datetime) -> bool:
        """Inside a working span (its ends included)."""
        epoch = moment.timestamp()
        day = datetime.fromtimestamp(epoch, self.zone).date()
        spans = self._year(day.year).spans[day.timetuple().tm_yday - 1]
        return any(start <= epoch <= end for start, end in spans)

    def business_day_of(self, moment: datetime) -> date:
        """The working day a moment counts as received on when a clock counts from
        the next business day: its own date while that day's work has not ended,
        else the next working day."""
        local = self.local(moment)
        day = local.date()
        spans = self._year(day.year).spans[day.timetuple().tm_yday - 1]
        if spans and moment.timestamp() < spans[-1][1]:
            return day
        return self.next_working_day(day)

    def nth_working_day_after(self, day: date, n: int) -> date:
        """The ``n``-th working day after ``day`` (cached: many cases share a day)."""
        key = (day, n)
        found = self._nth.get(key)
        if found is None:
            found = day
            for _ in range(n):
                found = self.next_working_day(found)
            self._nth[key] = found
        return found

    def next_working_day(self, day: date) -> date:
        for _ in range(366 * MAX_EMPTY_YEARS):
            day += timedelta(days=1)
            if self.is_working_day(day):
                return day
        raise ValueError(f"calendar {self.name} has no working day after {day}")

    def end_of_day(self, day: date) -> datetime:
        """The end of the last working span of ``day`` (a working day)."""
        spans = self._year(day.year).spans[day.timetuple().tm_yday - 1]
        if not spans:
            raise ValueError(f"{day} is not a working day in calendar {self.name}")
        return datetime.fromtimestamp(spans[-1][1], self.zone)

    def working_day_on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self.next_working_day(day)

    def working_day_on_or_before(self, day: date) -> date:
        for _ in range(366 * MAX_EMPTY_YEARS):
            if self.is_working_day(day):
                return day
            day -= timedelta(days=1)
        raise ValueError(f"calendar {self.name} has no working day before {day}")


class WallTime:
    """Calendar time on the local clock of a time zone: what ``days``/``weeks``
    targets count. A day is always 24 hours here, so a pause of five days moves a
    deadline by five days even across a clock change (elapsed seconds would move
    a 23:59:59 deadline to 00:59:59 or 22:59:59)."""

    def __init__(self, timezone: str = "UTC", name: str = "24x7") -> None:
        self.name = name
        self.zone = ZoneInfo(timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def _naive(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def seconds_between(self, start: datetime, end: datetime) -> float:
        return (self._naive(end) - self._naive(start)).total_seconds()

    def add(self, start: datetime, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("add() takes a non-negative amount of time")
        return (self._naive(start) + timedelta(seconds=seconds)).replace(tzinfo=self.zone)

    def is_working_time(self, moment: datetime) -> bool:
        return True


Measure = BusinessCalendar | WallTime


def parse_spans(text: Any) -> tuple[Span, ...]:
    """``"09:00-12:00, 13:00-18:00"`` -> ((540, 720), (780, 1080)); ``None``/"" -> ()."""
    if text in (None, "", "closed", "off"):
        return ()
    spans: list[Span] = []
    for part in str(text).split(","):
        start_text, sep, end_text = part.strip().partition("-")
        if not sep:
            raise ValueError(f"{part.strip()!r} is not a range like 09:00-18:00")
        start, end = _minutes(start_text), _minutes(end_text)
        if end <= start:
            raise ValueError(f"{part.strip()!r}: the end must be after the start")
        if spans and start < spans[-1][1]:
            raise ValueError(f"{part.strip()!r} overlaps or precedes the range before it")
        spans.append((start, end))
    return tuple(spans)


def _minutes(text: str) -> int:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"{text.strip()!r} is not a time like 09:00")
    value = int(hours) * 60 + int(minutes)
    if value > 24 * 60 or int(minutes) >= 60:
        raise ValueError(f"{text.strip()!r} is not a time of day (00:00 to 24:00)")
    return value


def hours_by_weekday(table: Mapping[str, Any]) -> tuple[tuple[Span, ...], ...]:
    """``{mon-fri: "09:00-18:00", sat: "10:00-14:00"}`` -> spans per weekday.

    Keys are weekdays or ranges of them (``mon-fri``); a later key overrides an
    earlier one for the days it names.
    """
    days: list[tuple[Span, ...]] = [()] * 7
    for key, value in table.items():
        spans = parse_spans(value)
        for index in weekday_indexes(str(key)):
            days[index] = spans
    return tuple(days)


def weekday_indexes(key: str) -> list[int]:
    first, sep, last = key.strip().lower().partition("-")
    if first not in WEEKDAYS or (sep and last not in WEEKDAYS):
        raise ValueError(f"{key!r} is not a weekday or a range like mon-fri")
    start = WEEKDAYS.index(first)
    end = WEEKDAYS.index(last) if sep else start
    if end < start:
        raise ValueError(f"{key!r}: a range runs Monday to Sunday, e.g. mon-fri")
    return list(range(start, end + 1))


ALWAYS = ((0, 24 * 60),)


def always_open(name: str, timezone: str) -> CalendarSpec:
    """A 24x7 calendar in a time zone (every minute counts, holidays included)."""
    return CalendarSpec(name, timezone, (ALWAYS,) * 7)


@dataclass
class Calendars:
    """Calendars by name, each built once (its per-year tables are cached); their
    public holidays come from ``public`` (shared, so each table is built once)."""

    specs: Mapping[str, CalendarSpec]
    # Where holidays are looked up and what was built from the specs: not part of
    # what the calendars are (two loads of one rules.yaml compare equal).
    public: PublicHolidays = field(default_factory=PublicHolidays, compare=False, repr=False)
    _built: dict[str, BusinessCalendar] = field(default_factory=dict, compare=False, repr=False)

    def get(self, name: str) -> BusinessCalendar:
        if name not in self._built:
            self._built[name] = BusinessCalendar(self.specs[name], self.public)
        return self._built[name]
