"""Public-holiday tables kept in ``.git/cmtool/holidays.json`` between commands.

Asking the holidays package for a year's table costs about half a second the
first time in a process (importing it, loading its country data); an SLA sweep
or a filing needs the same few tables every time. They depend only on the
country, subdivision, year and the package's version, which is the cache key:
upgrading holidays (a corrected holiday) builds every table again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from cmtool.store.cachefile import cache_dir, installed_version, read_cache, write_cache

FILE = "holidays.json"
FORMAT = "1"
MAX_TABLES = 2000  # about 20 countries over 100 years; the oldest entries go first

DaysOff = tuple[frozenset[date], frozenset[date]]  # (public holidays, make-up workdays)
HolidayKey = tuple[str, str | None, int]  # (country, subdivision, year)


class HolidayCache:
    """The tables kept for the workspace at ``root`` (``tables``), and ``keep`` to
    add one. Without a ``.git`` folder nothing is kept."""

    def __init__(self, root: Path) -> None:
        folder = cache_dir(root)
        self.path = None if folder is None else folder / FILE
        self.key = f"{FORMAT}:holidays={installed_version('holidays', 'holidays')}"
        self.tables = {} if self.path is None else decode_tables(read_cache(self.path, self.key))

    def keep(self, key: HolidayKey, days: DaysOff) -> None:
        self.tables[key] = days
        while len(self.tables) > MAX_TABLES:
            del self.tables[next(iter(self.tables))]
        if self.path is not None:
            write_cache(self.path, self.key, encode_tables(self.tables))


def encode_tables(tables: Mapping[HolidayKey, DaysOff]) -> list[Any]:
    return [
        [country, subdiv, year, sorted(d.isoformat() for d in off), sorted(d.isoformat() for d in makeup)]
        for (country, subdiv, year), (off, makeup) in tables.items()
    ]


def decode_tables(value: Any) -> dict[HolidayKey, DaysOff]:
    """The tables of a cache file's value; empty when any entry is not as written."""
    if not isinstance(value, list):
        return {}
    tables: dict[HolidayKey, DaysOff] = {}
    try:
        for country, subdiv, year, off, makeup in value:
            if (
                not isinstance(country, str)
                or not (subdiv is None or isinstance(subdiv, str))
                or type(year) is not int
            ):
                return {}
            tables[(country, subdiv, year)] = (_dates(off), _dates(makeup))
    except (TypeError, ValueError):
        return {}
    return tables


def _dates(items: Any) -> frozenset[date]:
    if not isinstance(items, list):
        raise TypeError("a list of dates")
    return frozenset(date.fromisoformat(item) for item in items)
