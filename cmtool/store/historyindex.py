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
        conn = sqlite3.connect(folder / "history.sqlite", timeout=30, isolation_level=None)
        conn.executescript(SCHEMA)
    except (OSError, sqlite3.OperationalError):
        # A read-only copy (an auditor's): index in memory for this run.
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.executescript(SCHEMA)
    return conn


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
    conn = _connect(root)
    try:
        _update(conn, root)
        rows = conn.execute(
            "SELECT c.sha, c.author, c.email, c.author_date, c.committer_date, c.message, "
            "t.status, t.old_blob, t.new_blob FROM touches t JOIN commits c ON c.seq = t.seq "
            "WHERE t.path = ? ORDER BY t.seq",
            (path,),
        ).fetchall()
    finally:
        conn.close()
    return [
        Touch(*row[:7], None if row[7] == ZERO else row[7], None if row[8] == ZERO else row[8])
        for row in rows
    ]
