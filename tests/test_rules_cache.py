"""rules.yaml parsed once and holiday tables built once, kept in .git/cmtool: what
comes from the cache equals what the uncached path gives, a changed rules.yaml is
used on the very next command, and a damaged cache file is ignored and rebuilt."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from cmtool.calendar import PublicHolidays, holiday_table
from cmtool.rules import loader
from cmtool.store.cachefile import installed_version, read_cache, write_cache
from cmtool.store.holidaycache import FILE as HOLIDAYS_FILE
from cmtool.store.holidaycache import HolidayCache
from cmtool.store.rulescache import parse_rules
from cmtool.store.yamlio import load_with_lines
from tests.conftest import SAMPLE_RULES, git

EVERY_KIND = """\
plain: text
number: 42
big: 123456789012345678901234567890
ratio: 0.8
forever: .inf
yes_no: true
nothing: null
day: 2025-11-03
moment: 2025-11-03T10:00:00+08:00
naive: 2025-11-03 10:00:00.250000
blob: !!binary aGVsbG8=
unique: !!set {a: null, b: null}
ordered: !!omap [{first: 1}, {second: 2}]
7: seven
true: by a boolean
2025-01-01: by a date
null: by null
nested:
  list: [1, [2, [3, {deep: [x, y]}]], "09:00-18:00"]
  中文: 充电器
"""


def _rules_files(folder: Path) -> list[Path]:
    return sorted((folder / ".git" / "cmtool" / "rules").glob("*.json"))


def _same(a, b) -> bool:
    """Equal, and of the same types all the way down (1 is not 1.0, a date not a str)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (
            list(a) == list(b)
            and all(_same(k1, k2) for k1, k2 in zip(a, b, strict=True))
            and all(_same(a[k], b[k]) for k in a)
        )
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b or (a != a and b != b)  # NaN


@pytest.fixture
def folder(tmp_path) -> Path:
    """A folder with a .git folder: where the cache goes."""
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_every_yaml_value_comes_back_from_the_cache_as_parsed(folder):
    fresh = load_with_lines(EVERY_KIND, "rules.yaml")
    first = parse_rules(EVERY_KIND, "rules.yaml", folder)  # parses and keeps
    assert len(_rules_files(folder)) == 1
    second = parse_rules(EVERY_KIND, "rules.yaml", folder)  # from the cache
    for got in (first, second):
        assert _same(got[0], fresh[0])
        assert got[1] == fresh[1]
    assert second[0]["moment"].utcoffset().total_seconds() == 8 * 3600
    assert second[0]["blob"] == b"hello" and second[0]["unique"] == {"a", "b"}


def test_rules_from_the_cache_equal_rules_parsed_fresh(folder):
    text = SAMPLE_RULES.read_text(encoding="utf-8")
    (folder / "rules.yaml").write_text(text, encoding="utf-8")
    uncached = loader.rules_from_text(text)
    loader._CACHE.clear()
    first = loader.load_rules(folder / "rules.yaml")
    loader._CACHE.clear()
    cached = loader.load_rules(folder / "rules.yaml")
    assert _rules_files(folder)
    assert first == uncached and cached == uncached
    assert cached.calendars.specs == uncached.calendars.specs


def test_a_command_with_cached_rules_imports_neither_yaml_nor_holidays(ws, cli):
    """The point of the cache: a second process builds rules and counts business
    days (on a calendar with public holidays) without the YAML library or holidays."""
    assert cli("file", "--title", "Question about my invoice", cwd=ws).code == 0  # fills the caches
    probe = (
        "import sys\n"
        "from datetime import datetime\n"
        "from pathlib import Path\n"
        "from cmtool.rules.loader import load_rules\n"
        "rules = load_rules(Path('rules.yaml').resolve())\n"
        "cal = rules.calendars.get('cn_business')\n"
        "print(cal.add(datetime.fromisoformat('2025-11-21T17:30:00+08:00'), 3600).isoformat())\n"
        "print(sorted(m for m in ('yaml', 'holidays', 'ruamel') if m in sys.modules))\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", probe], cwd=ws, capture_output=True, text=True, check=True)
        for _ in range(2)
    ]
    # Friday 17:30 + 1 working hour: 30 minutes on Friday, 30 on Monday from 09:00.
    # The first run asks the holidays package for 2025 (filing counts no time); the
    # second finds that table kept.
    assert runs[0].stdout.splitlines() == ["2025-11-24T09:30:00+08:00", "['holidays']"]
    assert runs[1].stdout.splitlines() == ["2025-11-24T09:30:00+08:00", "[]"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda raw: raw[: len(raw) // 2],  # truncated
        lambda raw: raw.replace(b"cn_business", b"cn_busyness", 1),  # a changed byte
        lambda raw: b"",  # empty
        lambda raw: b"\x00\xff garbage \n{{{",
    ],
    ids=["truncated", "changed", "empty", "garbage"],
)
def test_a_damaged_rules_cache_is_ignored_and_rebuilt(folder, damage):
    text = SAMPLE_RULES.read_text(encoding="utf-8")
    fresh = load_with_lines(text, "rules.yaml")
    parse_rules(text, "rules.yaml", folder)
    (kept,) = _rules_files(folder)
    kept.write_bytes(damage(kept.read_bytes()))
    data, lines = parse_rules(text, "rules.yaml", folder)
    assert _same(data, fresh[0]) and lines == fresh[1]
    assert read_cache(kept, kept.stem) is not None  # written again, whole


def test_a_cache_with_a_valid_checksum_but_foreign_content_is_not_used(folder):
    """A file whose checksum holds but whose key or values are not what this
    module writes (another key, unknown tags, bad lines) is parsed again."""
    text = SAMPLE_RULES.read_text(encoding="utf-8")
    fresh = load_with_lines(text, "rules.yaml")
    parse_rules(text, "rules.yaml", folder)
    (kept,) = _rules_files(folder)
    for key, value in [
        ("another key", {"data": {"map": []}, "lines": {}}),
        (kept.stem, {"data": {"pickle": "gASV"}, "lines": {}}),
        (kept.stem, {"data": {"map": []}, "lines": {"sla": "one"}}),
        (kept.stem, {"lines": {}}),
    ]:
        write_cache(kept, key, value)
        data, lines = parse_rules(text, "rules.yaml", folder)
        assert _same(data, fresh[0]) and lines == fresh[1]


def test_holiday_tables_from_the_cache_equal_the_package(folder):
    wanted = [("CN", None, 2024), ("CN", None, 2025), ("GB", "ENG", 2025), ("US", None, 2025)]
    cache = HolidayCache(folder)
    public = PublicHolidays(cache.tables, cache.keep)
    built = [public.days(*key) for key in wanted]
    later = HolidayCache(folder)  # what the next process reads
    assert set(later.tables) == set(wanted)
    for key, days in zip(wanted, built, strict=True):
        assert later.tables[key] == days == holiday_table(*key)
    off, makeup = later.tables[("CN", None, 2025)]
    assert date(2025, 10, 1) in off and date(2025, 9, 28) in makeup  # National Day; a Sunday worked


def test_a_damaged_or_foreign_holiday_cache_is_ignored(folder):
    cache = HolidayCache(folder)
    PublicHolidays(cache.tables, cache.keep).days("CN", None, 2025)
    path = folder / ".git" / "cmtool" / HOLIDAYS_FILE
    raw = path.read_bytes()
    path.write_bytes(raw.replace(b"2025-10-01", b"2025-10-09"))  # checksum no longer holds
    assert HolidayCache(folder).tables == {}
    # Another version of the holidays package: its tables may differ, so none is used.
    write_cache(path, "1:holidays=0.0", json.loads(raw.partition(b"\n")[2])["value"])
    assert HolidayCache(folder).tables == {}
    write_cache(path, cache.key, [["CN", None, "2025", [], []]])  # not as written
    assert HolidayCache(folder).tables == {}
    assert cache.key.endswith(installed_version("holidays", "holidays"))


def _due(cli, ws: Path, case_id: str) -> str:
    shown = cli("show", case_id, "--json", "--now", "2025-11-03T11:00:00+08:00", cwd=ws)
    assert shown.code == 0, shown.err
    (clock,) = [
        c for c in json.loads(shown.out)["clocks"] if (c["clock"], c["source"]) == ("resolution", "team")
    ]
    return clock["due_at"]


def _uncached_due(cli, ws: Path, case_id: str) -> str:
    for kept in [*_rules_files(ws), ws / ".git" / "cmtool" / HOLIDAYS_FILE]:
        kept.unlink(missing_ok=True)
    return _due(cli, ws, case_id)


def _edit_rules(ws: Path, old: str, new: str) -> None:
    path = ws / "rules.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    git(ws, "commit", "-qam", "rules: " + new.strip())


def test_a_changed_target_and_a_holiday_fix_apply_on_the_next_command(ws, cli):
    """Due moments from the sample's standard policy (resolution 10bd, counted from
    the next business day to close of business, cn_business: Mon-Fri 09:00-18:00,
    CN public holidays), for a case filed Monday 3 November 2025 at 10:00 (day 0;
    no public holiday in November)."""
    filed = cli(
        "file",
        "--title",
        "Question about my invoice",
        "--channel",
        "phone",
        "--now",
        "2025-11-03T10:00:00+08:00",
        cwd=ws,
    )
    assert filed.code == 0, filed.err
    case_id = filed.out.strip()
    # 10 business days after Mon 3 Nov: 4, 5, 6, 7, 10, 11, 12, 13, 14, 17 Nov.
    assert _due(cli, ws, case_id) == "2025-11-17T18:00:00+08:00"
    assert _rules_files(ws)

    _edit_rules(ws, "      resolution: 10bd\n", "      resolution: 5bd\n")
    # 5 business days: 4, 5, 6, 7, 10 Nov.
    assert _due(cli, ws, case_id) == "2025-11-10T18:00:00+08:00"
    assert _uncached_due(cli, ws, case_id) == "2025-11-10T18:00:00+08:00"

    _edit_rules(ws, "    extra_holidays: [2025-12-31]\n", "    extra_holidays: [2025-12-31, 2025-11-05]\n")
    # Wednesday 5 Nov is now a day off: 4, 6, 7, 10, 11 Nov.
    assert _due(cli, ws, case_id) == "2025-11-11T18:00:00+08:00"
    assert _uncached_due(cli, ws, case_id) == "2025-11-11T18:00:00+08:00"

    check = cli("sla", "check", "--json", "--now", "2025-11-11T17:00:00+08:00", cwd=ws)
    assert check.code in (0, 1), check.err
    found = [
        f for f in json.loads(check.out) if f.get("case_id") == case_id and f.get("clock") == "resolution"
    ]
    assert [f["due_at"] for f in found] == ["2025-11-11T18:00:00+08:00"]
