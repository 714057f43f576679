"""KPI facts in the index: per case file, what ``stats`` and reports count from.

One row per case file and ``upto``: 0 for the file as it is, N for the case as
its first N events stand (a report on a past period reads the case as it stood
at the period's end; that truncated case is derived once and kept too). Each row
is keyed by the file's blob id and by a key naming the rules and the code the
record was derived under; a row whose blob or key differs is stale and derived
again. The records come from above (``reports.kpifacts``): this module stores
them, with a few columns to choose cases by, and reads them back.

Columns of the ``upto = 0`` row (moments in epoch seconds): ``filed``;
``first_at`` and ``last_at``, the earliest and latest event; ``open``, whether
the case is open after its last event; ``complaint``, 0 for a duplicate (counted
once, as the case it duplicates); ``customer`` and ``category``, what repeat
complaints and category alerts count by; ``record``, the JSON record.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cmtool.model.case import Case
from cmtool.model.timefmt import to_utc
from cmtool.store import fastjson
from cmtool.store.slafacts import prepare_bulk_write

SCHEMA = """
CREATE TABLE IF NOT EXISTS kpi_facts (
    path TEXT, upto INTEGER, blob TEXT, rules TEXT,
    filed REAL, first_at REAL, last_at REAL, open INTEGER, complaint INTEGER,
    customer TEXT, category TEXT, record TEXT,
    PRIMARY KEY (path, upto)
);
"""
COLUMNS = ("filed", "first_at", "last_at", "open", "complaint", "customer", "category")


@dataclass(frozen=True)
class Derived:
    """What ``derive`` returns for one case: its record and the columns to choose by."""

    record: dict[str, Any]
    columns: dict[str, Any]  # COLUMNS


@dataclass(frozen=True)
class Row:
    """One current case (a complaint, not a duplicate) as a query reads it."""

    id: str
    path: str
    filed: float
    first_at: float
    last_at: float
    open: bool
    customer: str | None
    category: str | None
    record: dict[str, Any] | None  # None when the query did not ask for it


def forget(conn: sqlite3.Connection, rel: str) -> None:
    conn.execute("DELETE FROM kpi_facts WHERE path = ?", (rel,))


def clear(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM kpi_facts")


def _chosen(since: datetime, open_statuses: Iterable[str]) -> tuple[str, list[Any]]:
    """Cases open now or changed at or after ``since`` (the index's own columns)."""
    statuses = list(open_statuses)
    marks = ",".join("?" * len(statuses)) or "NULL"
    return f"c.error IS NULL AND (c.status IN ({marks}) OR c.active_at >= ?)", [
        *statuses,
        to_utc(since).isoformat(),
    ]


def refresh(
    conn: sqlite3.Connection,
    key: str,
    since: datetime,
    open_statuses: Iterable[str],
    derive: Callable[[Case], Derived],
) -> int:
    """Derive the ``upto = 0`` row of every case open now or changed since ``since``
    whose row is missing or stale (with ``derive``)."""
    where, params = _chosen(since, open_statuses)
    stale = [
        path
        for (path,) in conn.execute(
            "SELECT c.path FROM cases c LEFT JOIN kpi_facts f ON f.path = c.path AND f.upto = 0 "
            f"WHERE {where} AND (f.path IS NULL OR f.blob IS NOT c.blob OR f.rules IS NOT ?)",
            [*params, key],
        )
    ]
    # The parsed files are read for the stale rows alone (most runs: none).
    found = payloads(conn, stale)
    store(
        conn, key, ((path, blob, 0, derive(fastjson.case_of(data))) for path, (blob, data) in found.items())
    )
    return len(found)


def store(conn: sqlite3.Connection, key: str, rows: Iterable[tuple[str, str, int, Derived]]) -> None:
    """Keep derived rows: (path, blob, upto, derived)."""
    values = [
        (
            path,
            upto,
            blob,
            key,
            *(derived.columns[c] for c in COLUMNS),
            json.dumps(derived.record, ensure_ascii=False, separators=(",", ":")),
        )
        for path, blob, upto, derived in rows
    ]
    if not values:
        return
    prepare_bulk_write(conn, len(values))
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany(f"INSERT OR REPLACE INTO kpi_facts VALUES ({','.join('?' * 12)})", values)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def select(
    conn: sqlite3.Connection,
    key: str,
    since: datetime,
    open_statuses: Iterable[str],
    moment: datetime,
    records_since: datetime,
) -> Iterator[Row]:
    """The complaints open now or changed since ``since`` that have an event at or
    before ``moment``, in ID order, with current rows (``refresh`` first). The record
    is read only where it can be needed: a case open now, changed at or after
    ``records_since``, or changed after ``moment`` (read as it stood then)."""
    where, params = _chosen(since, open_statuses)
    need = "(f.open = 1 OR f.last_at >= ? OR f.last_at > ?)"
    rows = conn.execute(
        "SELECT c.id, c.path, f.filed, f.first_at, f.last_at, f.open, f.customer, f.category, "
        f"CASE WHEN {need} THEN f.record END "
        "FROM cases c JOIN kpi_facts f ON f.path = c.path AND f.upto = 0 "
        f"WHERE {where} AND f.blob = c.blob AND f.rules = ? AND f.complaint = 1 AND f.first_at <= ? "
        "ORDER BY c.id",
        [records_since.timestamp(), moment.timestamp(), *params, key, moment.timestamp()],
    )
    for case_id, path, filed, first_at, last_at, is_open, customer, category, record in rows:
        yield Row(
            case_id,
            path,
            filed,
            first_at,
            last_at,
            bool(is_open),
            customer,
            category,
            fastjson.loads(record) if record is not None else None,
        )


def kept(
    conn: sqlite3.Connection, key: str, wanted: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], dict]:
    """Current records of truncated cases: (path, upto) -> record."""
    found: dict[tuple[str, int], dict] = {}
    pairs = list(wanted)
    for start in range(0, len(pairs), 400):
        chunk = pairs[start : start + 400]
        marks = " OR ".join("(f.path = ? AND f.upto = ?)" for _ in chunk)
        rows = conn.execute(
            "SELECT f.path, f.upto, f.record FROM kpi_facts f JOIN cases c ON c.path = f.path "
            f"WHERE ({marks}) AND f.blob = c.blob AND f.rules = ?",
            [*(v for pair in chunk for v in pair), key],
        )
        found.update({(path, upto): fastjson.loads(record) for path, upto, record in rows})
    return found


def payloads(conn: sqlite3.Connection, paths: Iterable[str]) -> dict[str, tuple[str, str]]:
    """path -> (blob, parsed file as JSON) of current case files."""
    wanted = list(paths)
    out: dict[str, tuple[str, str]] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = conn.execute(
            "SELECT c.path, c.blob, p.data FROM cases c JOIN payloads p ON p.path = c.path "
            f"WHERE c.path IN ({','.join('?' * len(chunk))})",
            chunk,
        )
        out.update({path: (blob, data) for path, blob, data in rows})
    return out
