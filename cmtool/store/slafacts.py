"""Clock facts in the index: per case file, when its clocks next need a sweep.

One row per case file, keyed by the file's blob id and by a key naming the rules
(and the code) the facts were derived under: a row whose blob or key differs
from the current ones is stale and derived again. The facts themselves come
from above (``sla.facts``): this module only stores them and asks which cases
need timing at a moment, so that a sweep builds case objects for those alone.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmtool.model.case import Case
from cmtool.store.fastjson import case_of

# Writing this many rows at once gets a 64 MB page cache; reads keep SQLite's 2 MB.
BULK_ROWS, BULK_CACHE_KB = 10_000, 65_536

SCHEMA = """
CREATE TABLE IF NOT EXISTS clock_facts (
    path TEXT PRIMARY KEY, blob TEXT, rules TEXT,
    clocks INTEGER,  -- how many clocks the case has
    wake REAL,       -- epoch seconds: before it, no clock is in warning or breach nor has a rung due
    moving INTEGER,  -- 1: a pause going on moves due moments: time the case on every sweep
    detail TEXT      -- JSON: each clock's due and warning moments, its state once stopped
);
CREATE INDEX IF NOT EXISTS clock_facts_wake ON clock_facts(wake);
"""


@dataclass(frozen=True)
class Facts:
    clocks: int
    wake: datetime | None
    moving: bool
    detail: Any  # JSON-ready


@dataclass(frozen=True)
class Selection:
    # (case ID, path, facts as JSON) of the cases to time, in ID order; facts None
    # when not current or moving (a pause going on): those need their files.
    rows: list[tuple[str, str, str | None]]
    quiet_cases: int  # cases passed by: nothing is due on them yet
    quiet_clocks: int  # and their clocks


def prepare_bulk_write(conn: sqlite3.Connection, rows: int) -> None:
    """A write of many rows in one transaction (a rebuild, facts derived anew) gets a
    large page cache: with SQLite's default 2 MB every page it touches again is read
    back from the write-ahead log. Reads keep the default (64 MB less per report)."""
    if rows > BULK_ROWS:
        conn.execute(f"PRAGMA cache_size=-{BULK_CACHE_KB}")


def forget(conn: sqlite3.Connection, rel: str) -> None:
    conn.execute("DELETE FROM clock_facts WHERE path = ?", (rel,))


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM clock_facts")


def _among(statuses: Collection[str]) -> tuple[str, list[str]]:
    return f"c.error IS NULL AND c.status IN ({','.join('?' * len(statuses))})", list(statuses)


def refresh(
    conn: sqlite3.Connection, key: str, statuses: Collection[str], derive: Callable[[Case], Facts]
) -> int:
    """Derive the facts of every case in ``statuses`` whose row is missing or stale
    (with ``derive``); returns how many it derived."""
    where, params = _among(statuses)
    stale = conn.execute(
        "SELECT c.path, c.blob, p.data FROM cases c JOIN payloads p ON p.path = c.path "
        "LEFT JOIN clock_facts f ON f.path = c.path "
        f"WHERE {where} AND (f.path IS NULL OR f.blob IS NOT c.blob OR f.rules IS NOT ?)",
        [*params, key],
    ).fetchall()
    if not stale:
        return 0
    rows = [(path, blob, key, derive(case_of(data))) for path, blob, data in stale]
    prepare_bulk_write(conn, len(rows))
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("INSERT OR REPLACE INTO clock_facts VALUES (?, ?, ?, ?, ?, ?, ?)", _rows(rows))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return len(stale)


def _rows(rows: Iterable[tuple[str, str, str, Facts]]) -> Iterable[tuple[Any, ...]]:
    for path, blob, key, facts in rows:
        wake = facts.wake.timestamp() if facts.wake else None
        detail = json.dumps(facts.detail, ensure_ascii=False, separators=(",", ":"))
        yield path, blob, key, facts.clocks, wake, int(facts.moving), detail


def select(conn: sqlite3.Connection, key: str, statuses: Collection[str], now: datetime) -> Selection:
    """The cases in ``statuses`` with a clock that may need the sweep at ``now``: a
    wake moment reached, a pause going on, or facts not current (never passed by)."""
    where, params = _among(statuses)
    needs = (
        "(f.path IS NULL OR f.blob IS NOT c.blob OR f.rules IS NOT ? OR f.moving = 1 "
        "OR coalesce(f.wake <= ?, 0))"
    )
    args = [*params, key, now.timestamp()]
    current = "f.blob IS c.blob AND f.rules IS ? AND f.moving = 0"
    rows = conn.execute(
        f"SELECT c.id, c.path, CASE WHEN {current} THEN f.detail END FROM cases c "
        f"LEFT JOIN clock_facts f ON f.path = c.path WHERE {where} AND {needs} ORDER BY c.id",
        [key, *args],
    ).fetchall()
    quiet = conn.execute(
        "SELECT count(*), sum(f.clocks) FROM cases c "
        f"LEFT JOIN clock_facts f ON f.path = c.path WHERE {where} AND NOT {needs}",
        args,
    ).fetchone()
    return Selection(rows, quiet[0], quiet[1] or 0)


def with_facts(
    conn: sqlite3.Connection, key: str, paths: Collection[str] | None = None, chunk: int = 500
) -> Iterable[tuple[str, str | None, bool]]:
    """``(parsed file as JSON, clock facts as JSON or None, moving)`` of every readable
    case (or those at ``paths``) in path order (filing month, then ID), streamed; facts
    not current are None. Path order walks the primary key: ordering by ID would make
    SQLite sort every parsed file in memory first (200 MB at 100k cases)."""
    query = (
        "SELECT p.data, f.detail, coalesce(f.moving, 0) FROM cases c JOIN payloads p ON p.path = c.path "
        "LEFT JOIN clock_facts f ON f.path = c.path AND f.blob IS c.blob AND f.rules IS ? "
        "WHERE c.error IS NULL"
    )
    if paths is None:
        for data, detail, moving in conn.execute(f"{query} ORDER BY c.path", (key,)):
            yield data, detail, bool(moving)
        return
    wanted = sorted(paths)
    for start in range(0, len(wanted), chunk):
        part = wanted[start : start + chunk]
        marks = ",".join("?" * len(part))
        for data, detail, moving in conn.execute(
            f"{query} AND c.path IN ({marks}) ORDER BY c.path", [key, *part]
        ):
            yield data, detail, bool(moving)
