"""Which commits changed which case file: a small incremental SQLite table.

``git log -- path`` walks the whole history for every question (seconds at
100k commits). This index is filled from ``git log --raw`` once and then only
from ``<last indexed>..HEAD``, so asking for a case's commits is one indexed
query. It lives in ``.git/cmtool/history.sqlite`` (never committed, safe to
delete: it is rebuilt from git). When HEAD no longer descends from the indexed
tip (a rewritten history), the index is rebuilt from scratch.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cmtool.store.gitread import ZERO, is_ancestor, read_log, rev_parse

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS commits (
    seq INTEGER PRIMARY KEY, sha TEXT UNIQUE, author TEXT, email TEXT, author_date TEXT,
    committer_date TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS touches (
    path TEXT, seq INTEGER, status TEXT, old_blob TEXT, new_blob TEXT,
    PRIMARY KEY (path, seq, old_blob));
"""


@dataclass(frozen=True)
class Touch:
    """One commit's change to a case file."""

    sha: str
    author: str
    email: str
    author_date: str
    committer_date: str
    message: str
    status: str
    old_blob: str | None
    new_blob: str | None


def _connect(root: Path) -> sqlite3.Connection:
    folder = root / ".git" / "cmtool"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        return _open(folder / "history.sqlite")
    except (OSError, sqlite3.OperationalError):
        # A read-only copy (an auditor's): index in memory for this run.
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.executescript(SCHEMA)
        return conn


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.executescript(SCHEMA)
        conn.execute("SELECT count(*) FROM commits").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def _is_corrupt(exc: sqlite3.DatabaseError) -> bool:
    """Damage to the file itself, not a lock or a read-only folder."""
    return not isinstance(exc, sqlite3.OperationalError)


def _discard(root: Path) -> None:
    """Delete a damaged index: it holds nothing git does not, and is rebuilt on next use."""
    path = root / ".git" / "cmtool" / "history.sqlite"
    for suffix in ("", "-journal", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _update(conn: sqlite3.Connection, root: Path) -> None:
    head = rev_parse(root, "HEAD")
    row = conn.execute("SELECT value FROM meta WHERE key = 'tip'").fetchone()
    tip = row[0] if row else None
    if tip == head:
        return
    conn.execute("BEGIN IMMEDIATE")  # one updater at a time; others wait, then see it done
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'tip'").fetchone()
        tip = row[0] if row else None
        if tip != head:
            if tip and not (head and is_ancestor(root, tip, head)):
                conn.execute("DELETE FROM commits")
                conn.execute("DELETE FROM touches")
                tip = None
            if head:
                _append(conn, root, f"{tip}..{head}" if tip else head)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('tip', ?)", (head,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _append(conn: sqlite3.Connection, root: Path, revs: str) -> None:
    start = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM commits").fetchone()[0]
    commits = read_log(root, [revs])
    for offset, commit in enumerate(commits, start + 1):
        conn.execute(
            "INSERT OR IGNORE INTO commits VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                offset,
                commit.sha,
                commit.author_name,
                commit.author_email,
                commit.author_date,
                commit.committer_date,
                commit.message,
            ),
        )
        rows = {
            (c.path, offset, c.status, c.old_blob, c.new_blob)
            for diff in commit.diffs
            for c in diff
            if c.path.startswith("cases/")
        }
        conn.executemany("INSERT OR IGNORE INTO touches VALUES (?, ?, ?, ?, ?)", sorted(rows))


def touches_of(root: Path, path: str) -> list[Touch]:
    """Every commit that changed ``path``, oldest first (the index is brought up to date)."""
    try:
        rows = _touch_rows(root, path)
    except sqlite3.DatabaseError as exc:
        if not _is_corrupt(exc):
            raise
        _discard(root)
        rows = _touch_rows(root, path)
    return [
        Touch(*row[:7], None if row[7] == ZERO else row[7], None if row[8] == ZERO else row[8])
        for row in rows
    ]


def _touch_rows(root: Path, path: str) -> list[tuple]:
    conn = _connect(root)
    try:
        _update(conn, root)
        return conn.execute(
            "SELECT c.sha, c.author, c.email, c.author_date, c.committer_date, c.message, "
            "t.status, t.old_blob, t.new_blob FROM touches t JOIN commits c ON c.seq = t.seq "
            "WHERE t.path = ? ORDER BY t.seq",
            (path,),
        ).fetchall()
    finally:
        conn.close()
