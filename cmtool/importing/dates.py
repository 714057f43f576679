"""Dates as spreadsheets hold them, and the day/month order of a whole column.

Accepted: ISO 8601 (with or without time and offset), ``2020/3/18``,
``2020年3月18日``, ``03/18/2020`` and ``18/03/2020`` (order decided per column),
``18-03-20``, ``22-Apr-15``, ``Apr 22, 2015``, times with AM/PM, Excel serial
numbers, and real date cells. A time without an offset is read in the import's
time zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

DAYFIRST, MONTHFIRST = "dayfirst", "monthfirst"
EXCEL_EPOCH = datetime(1899, 12, 30)  # Excel's day 0 (after its 1900 leap-year bug)
SERIAL_RANGE = (20000, 80000)  # 1954 .. 2119: numbers outside are not dates

_TIME = r"(?:[ T,]+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
_YEAR_FIRST = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<a>\d{1,2})\s*[-/.月]\s*(?P<b>\d{1,2})\s*日?" + _TIME + "$"
)
_NUMERIC = re.compile(r"^(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _TIME + "$")
_DAY_MONTH_NAME = re.compile(
    r"^(?P<d>\d{1,2})[-/ ](?P<m>[A-Za-z]{3,9})\.?[-/ ,]+(?P<y>\d{4}|\d{2})" + _TIME + "$"
)
_MONTH_NAME_DAY = re.compile(r"^(?P<m>[A-Za-z]{3,9})\.? (?P<d>\d{1,2}),? (?P<y>\d{4})" + _TIME + "$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ],
        start=1,
    )
    for name in names
}


@dataclass(frozen=True)
class OrderDecision:
    order: str  # DAYFIRST or MONTHFIRST
    reason: str  # said to the user


def decide_order(values: Iterable[object], default_hint: str | None = None) -> OrderDecision | None:
    """The day/month order of a column of ``NN/NN/YYYY`` dates, or None if it has none.

    A value with a first number above 12 proves day-first, a second number above
    12 month-first; when no value proves anything the separator decides
    (``/`` month-first as US exports write, ``-`` and ``.`` day-first).
    """
    dayfirst = monthfirst = ambiguous = 0
    separators: dict[str, int] = {}
    example = {}
    for value in values:
        match = _NUMERIC.match(value.strip()) if isinstance(value, str) else None
        if not match:
            continue
        a, b = int(match["a"]), int(match["b"])
        separators[match["sep"]] = separators.get(match["sep"], 0) + 1
        if a > 12 >= b:
            dayfirst += 1
            example.setdefault(DAYFIRST, value.strip())
        elif b > 12 >= a:
            monthfirst += 1
            example.setdefault(MONTHFIRST, value.strip())
        else:
            ambiguous += 1
    if not (dayfirst or monthfirst or ambiguous):
        return None
    if dayfirst or monthfirst:
        order = DAYFIRST if dayfirst >= monthfirst else MONTHFIRST
        why = f"{example[order]} can only be {'day/month' if order == DAYFIRST else 'month/day'}"
        if dayfirst and monthfirst:
            why += (
                f"; {dayfirst} rows read day-first and {monthfirst} month-first, "
                "the rows that do not fit the majority are rejected"
            )
        return OrderDecision(order, why)
    if default_hint:
        return OrderDecision(default_hint, "every date is ambiguous; decided by the other date columns")
    sep = max(separators, key=separators.__getitem__)
    order = MONTHFIRST if sep == "/" else DAYFIRST
    shape = "month/day" if order == MONTHFIRST else "day/month"
    return OrderDecision(
        order,
        f"every date is ambiguous (day and month both 12 or less); {sep!r}-separated dates read {shape}",
    )


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$")


def looks_like_date(value: object) -> bool:
    """Whether a cell is written like a date (a bare number is not: it may be an ID)."""
    if isinstance(value, (date, datetime)):
        return True
    if not isinstance(value, str):
        return False
    text = value.strip()
    if len(text) > 40:
        return False
    patterns = (_ISO, _YEAR_FIRST, _NUMERIC, _DAY_MONTH_NAME, _MONTH_NAME_DAY)
    return any(pattern.match(text) for pattern in patterns)


def parse_date(value: object, order: str | None, zone: tzinfo) -> datetime:
    """A timezone-aware datetime; raises ValueError saying what is wrong."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    if isinstance(value, date):
        return datetime.combine(value, time(), zone)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _serial(float(value), zone)
    text = str(value).strip()
    if _SERIAL.match(text):
        return _serial(float(text), zone)
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)
    except ValueError:
        pass
    if match := _YEAR_FIRST.match(text):
        return _build(int(match["y"]), int(match["a"]), int(match["b"]), match, zone, text)
    if match := _NUMERIC.match(text):
        a, b = int(match["a"]), int(match["b"])
        day, month = (a, b) if (order or DAYFIRST) == DAYFIRST else (b, a)
        if month > 12:
            shape = "DD/MM" if order == DAYFIRST else "MM/DD"
            raise ValueError(f"{text!r} does not fit the column's {shape} order")
        return _build(_year(match["y"]), month, day, match, zone, text)
    for pattern in (_DAY_MONTH_NAME, _MONTH_NAME_DAY):
        if match := pattern.match(text):
            month = _MONTHS.get(match["m"].lower())
            if month is None:
                raise ValueError(f"{text!r}: {match['m']!r} is not a month name")
            return _build(_year(match["y"]), month, int(match["d"]), match, zone, text)
    raise ValueError(f"{text!r} is not a date")


def _year(text: str) -> int:
    year = int(text)
    return year if len(text) == 4 else (2000 + year if year < 70 else 1900 + year)


def _build(year: int, month: int, day: int, match: re.Match, zone: tzinfo, text: str) -> datetime:
    hour = int(match["h"] or 0)
    if match["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r}: hour {hour} with AM/PM")
        hour = hour % 12 + (12 if match["ampm"][0] in "Pp" else 0)
    try:
        return datetime(year, month, day, hour, int(match["mi"] or 0), int(match["s"] or 0), tzinfo=zone)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None


def _serial(number: float, zone: tzinfo) -> datetime:
    if not SERIAL_RANGE[0] <= number <= SERIAL_RANGE[1]:
        raise ValueError(
            f"{number:g} is not a date (Excel serial numbers for 1954-2119 "
            f"are {SERIAL_RANGE[0]}-{SERIAL_RANGE[1]})"
        )
    moment = EXCEL_EPOCH + timedelta(days=number)
    return moment.replace(microsecond=0, tzinfo=zone) + timedelta(seconds=round(moment.microsecond / 1e6))
