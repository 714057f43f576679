"""The ``calendars:`` section: working hours, time zones, public holidays (from the
holidays package), China's make-up workdays and extra dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cmtool.calendar import CalendarSpec, always_open, hours_by_weekday, parse_spans
from cmtool.rules.checker import Checker


def build_calendars(c: Checker, data: Mapping[str, Any], check_holidays: bool) -> dict[str, CalendarSpec]:
    out = {}
    for name, spec in c.mapping(data.get("calendars"), "calendars").items():
        path = f"calendars.{name}"
        spec = c.mapping(spec, path)
        zone = spec.get("timezone", "UTC")
        try:
            ZoneInfo(str(zone))
        except (ZoneInfoNotFoundError, ValueError):
            c.bad(f"{path}.timezone", f"unknown time zone {zone!r} (e.g. Asia/Shanghai)")
            zone = "UTC"
        hours_value = spec.get("hours")
        if hours_value == "24x7":
            out[str(name)] = always_open(str(name), str(zone))
            continue
        hours = c.convert(f"{path}.hours", hours_by_weekday, c.mapping(hours_value, f"{path}.hours"))
        if hours is not None and not any(hours):
            c.bad(f"{path}.hours", "no working hours on any weekday (use hours: 24x7 for always)")
        country = subdiv = None
        public = c.mapping(spec.get("holidays"), f"{path}.holidays")
        if public:
            country, subdiv = public.get("country"), public.get("subdiv")
            problem = _holiday_problem(country, subdiv) if check_holidays else None
            if not isinstance(country, str) or not country.strip():
                problem = ("country", "needs an ISO country code, e.g. CN, GB, US")
            if problem:
                c.bad(f"{path}.holidays.{problem[0]}", problem[1])
                country = subdiv = None
        makeup = None
        if "makeup_hours" in spec:
            makeup = c.convert(f"{path}.makeup_hours", parse_spans, spec["makeup_hours"])
        out[str(name)] = CalendarSpec(
            str(name),
            str(zone),
            hours or ((),) * 7,
            country,
            subdiv,
            _dates(c, spec.get("extra_holidays"), f"{path}.extra_holidays"),
            _dates(c, spec.get("extra_workdays"), f"{path}.extra_workdays"),
            makeup,
        )
    return out


def _holiday_problem(country: Any, subdiv: Any) -> tuple[str, str] | None:
    """(key, message) when the holidays package has no such country or subdivision.
    Asks for that one country only: listing all of them imports every module (0.4 s)."""
    import holidays

    try:
        holidays.country_holidays(str(country), subdiv=None if subdiv is None else str(subdiv))
    except NotImplementedError:
        if subdiv is not None and _holiday_problem(country, None) is None:
            return "subdiv", f"{subdiv!r} is not a subdivision of {country} in the holidays package"
        return "country", (
            f"{country!r} is not a country the holidays package knows (ISO code, e.g. CN, GB, US)"
        )
    return None


def _dates(c: Checker, value: Any, path: str) -> frozenset[date]:
    out = set()
    for index, item in enumerate(c.seq(value, path)):
        if isinstance(item, date):
            out.add(item)
        else:
            parsed = c.convert(f"{path}[{index}]", date.fromisoformat, str(item))
            if parsed:
                out.add(parsed)
    return frozenset(out)


def calendar_ref(c: Checker, name: Any, path: str, calendars: Mapping[str, Any]) -> str:
    if name not in calendars:
        c.bad(path, f"unknown calendar {name!r} (calendars: {', '.join(calendars) or 'none'})")
    return str(name)
