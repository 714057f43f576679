"""When a clock falls due: a target counted on a calendar from the day (or the
moment) a complaint arrived, skipping paused periods, ending when the rule says
the last day ends.

Working-time targets (``8h``, ``30m``) count working seconds from the moment of
receipt. Day targets (``3bd``, ``15d``, ``8w``) count days from day 0 (the day of
receipt, or the next business day when the counting says so) to the last day,
which ends at close of business or at 23:59:59 local. A pause moves a day
deadline by the paused time, measured like the target (working time for ``bd``,
local calendar time for ``d``/``w``), and the deadline is then the end of the
day it lands on.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from cmtool.calendar import BusinessCalendar, Measure, WallTime
from cmtool.rules.model import END_OF_DAY, NEXT_BUSINESS_DAY, Counting, Target

LAST_SECOND = time(23, 59, 59)
DAY_UNITS = ("bd", "d", "w")

Pauses = tuple[tuple[datetime, datetime], ...]
Interval = tuple[datetime, "datetime | None"]  # end None: still going on

_WALL: dict[str, WallTime] = {}


def measure_for(target: Target, calendar: BusinessCalendar) -> Measure:
    """Working time for h/m/bd targets; local calendar time for d/w."""
    if target.unit in ("m", "h", "bd"):
        return calendar
    key = calendar.spec.timezone
    return _WALL.get(key) or _WALL.setdefault(key, WallTime(key))


def due_moment(
    target: Target,
    counting: Counting,
    roll_to_working_day: bool,
    calendar: BusinessCalendar,
    start: datetime,
    pauses: Pauses,
) -> tuple[float, datetime]:
    """(the target as an amount of its measure from ``start``, the due moment)."""
    measure = measure_for(target, calendar)
    if target.unit not in DAY_UNITS:
        amount = target.amount * (60 if target.unit == "m" else 3600)
        return amount, walk(measure, start, pauses, amount)
    if counting.count_from == NEXT_BUSINESS_DAY:
        day0 = calendar.business_day_of(start)
    else:
        day0 = start.astimezone(calendar.zone).date()
    if target.unit == "bd":
        last = calendar.nth_working_day_after(day0, int(target.amount))
    else:
        last = day0 + timedelta(days=int(target.amount) * (7 if target.unit == "w" else 1))
    unpaused = day_end(calendar, last, counting, roll_to_working_day)
    amount = max(measure.seconds_between(start, unpaused), 0.0)
    if not pauses:
        return amount, unpaused
    landed = walk(measure, start, pauses, amount)
    day = landed.astimezone(calendar.zone).date()
    return amount, day_end(calendar, day, counting, roll_to_working_day)


def day_end(calendar: BusinessCalendar, day: date, counting: Counting, roll: bool) -> datetime:
    """The moment a period whose last day is ``day`` ends. ``roll``: a last day that
    is not a working day moves to the next working day. Close of business on a day
    without working hours is the close of the working day before it."""
    if roll:
        day = calendar.working_day_on_or_after(day)
    if counting.ends_at == END_OF_DAY:
        return datetime.combine(day, LAST_SECOND, calendar.zone)
    return calendar.end_of_day(calendar.working_day_on_or_before(day))


def merge_pauses(raw: list[Interval], start: datetime, stop: datetime | None, now: datetime) -> Pauses:
    """Sorted, merged, concrete intervals within [start, stop]; one still going on
    ends ``now`` (the earliest it can end)."""
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted((a, max(b or now, a)) for a, b in raw):
        a, b = max(a, start), (min(b, stop) if stop else b)
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)


def walk(measure: Measure, start: datetime, pauses: Pauses, amount: float) -> datetime:
    """The instant ``amount`` of counted time after ``start``, skipping ``pauses``."""
    moment, left = start, amount
    for a, b in pauses:
        if b <= moment:
            continue
        if a > moment:
            segment = measure.seconds_between(moment, a)
            if segment >= left:
                return measure.add(moment, left)
            left -= segment
        moment = max(moment, b)
    return measure.add(moment, left)
