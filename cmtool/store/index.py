"""The disposable index: a SQLite cache of every case file, keyed by blob id.

It lives in ``.git/cmtool/index.sqlite`` (per clone, never committed) and holds,
per case file, the git blob id of its content, a few columns to filter on, and
the parsed file as JSON (about 100x faster to load than YAML), with sealed
personal values opened by the keys this clone can reach (so reads decrypt
nothing). It is never the source of truth: each use first brings it up to date
with the work tree —

1. ``git diff-tree`` between the commit it was built at and HEAD names the case
   files that commits changed;
2. ``git diff-files`` and ``git ls-files --others`` name files changed, added
   or deleted by hand since;
3. each named file is re-read only if its blob id differs from the stored one;
4. a case whose key was destroyed since (``cmtool privacy erase`` or ``purge``, in
   any clone sharing the key store) is re-read, so what was opened is forgotten.
   Another key store (or none) than at the last build makes it rebuild.

A missing, corrupt or older-format database, or an indexed commit that is no
longer in the history (a rewritten branch), makes it rebuild from the files.
Writers take SQLite's write lock (BEGIN IMMEDIATE), so two processes refreshing
at once serialise; readers use WAL and never see half an update.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cmtool.errors import DataError
from cmtool.model.case import Case
from cmtool.model.ids import is_valid_id
from cmtool.model.privacy import TOKEN_PREFIX
from cmtool.model.schema import check_case_data
from cmtool.model.timefmt import to_utc
from cmtool.store import fastjson, kpifacts, slafacts, textindex
from cmtool.store.casefiles import iter_case_paths
from cmtool.store.git import blob_id, git, git_ok, head
from cmtool.store.gitenv import git_environ
from cmtool.store.personal import key_store_label, sealer_for
from cmtool.store.safefile import read_regular
from cmtool.store.sealing import Sealer
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load, load_with_lines

FORMAT = 11  # bump when the table layout or the stored JSON changes
COLUMNS = (
    "status",
    "priority",
    "category",
    "channel",
    "assignee",
    "team",
    "customer",
    "filed_at",
    "title",
    "product",
    "region",
    "tags",  # a list, stored comma-joined
    "regimes",  # a list, stored comma-joined
    "closed_at",
)
# Derived at index time, so routing and reports can choose cases in SQL: when (UTC)
# the current assignee got the case, and when (UTC) the case last changed.
DERIVED = ("assigned_at", "active_at")
PARALLEL_FROM = 2000  # files; below this a process pool costs more than it saves

_SCHEMA = (
    f"""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS cases (
    path TEXT PRIMARY KEY, id TEXT, blob TEXT, error TEXT,
    {", ".join(f"{c} TEXT" for c in (*COLUMNS, *DERIVED))}
);
-- The parsed files live apart: rows of the table above stay small, so listing and
-- routing scan a few MB instead of walking every file's JSON.
CREATE TABLE IF NOT EXISTS payloads (path TEXT PRIMARY KEY, data TEXT);
CREATE INDEX IF NOT EXISTS cases_id ON cases(id);
CREATE INDEX IF NOT EXISTS cases_status ON cases(status);
CREATE INDEX IF NOT EXISTS cases_filed ON cases(filed_at);
CREATE INDEX IF NOT EXISTS cases_broken ON cases(error) WHERE error IS NOT NULL;
-- Routing on every `file` (indexqueries.team_workload): open load per person and
-- each person's latest case of a team, without scanning every case.
CREATE INDEX IF NOT EXISTS cases_load ON cases(assignee, status);
CREATE INDEX IF NOT EXISTS cases_assigned ON cases(team, assignee, assigned_at);
"""
    + textindex.SCHEMA
    + slafacts.SCHEMA
    + kpifacts.SCHEMA
)


@dataclass(frozen=True)
class IndexStatus:
    path: str
    cases: int
    indexed_commit: str | None
    head: str | None
    refreshed: int  # files re-read by the refresh that produced this status
    rebuilt: bool


def db_path(ws: Workspace) -> Path:
    return ws.git_dir / "cmtool" / "index.sqlite"


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=60, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    # Rows re-read after an erasure must not linger in free pages of the file.
    conn.execute("PRAGMA secure_delete=ON")
    conn.executescript(_SCHEMA)
    return conn


def _meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return row[0] if row else None


def indexed_commit(conn: sqlite3.Connection) -> str | None:
    """The commit the index was last brought up to (read inside a transaction, the
    commit of the rows that transaction sees)."""
    return _meta(conn, "commit")


def open_current(ws: Workspace) -> sqlite3.Connection:
    """The database, recreated when missing, corrupt or of an older format."""
    path = db_path(ws)
    try:
        conn = _connect(path)
        if _meta(conn, "format") == str(FORMAT):
            conn.execute("SELECT count(*) FROM cases").fetchone()
            return conn
        conn.close()
    except sqlite3.DatabaseError:
        pass
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    conn = _connect(path)
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))
    return conn


# (path, blob, error, JSON, column values, the texts of textindex.TEXT_FIELDS)
Parsed = tuple[str, str, str | None, str | None, tuple[str | None, ...], tuple[str, ...] | None]


def parse_file(args: tuple[str, str]) -> Parsed:
    """(path, blob, error, JSON, column values, searchable text) of one case file.

    Runs in worker processes on a rebuild, so everything per file happens here and
    the parent only inserts rows.
    """
    root, rel = args
    try:
        raw = read_regular(Path(root, rel), Path(root))
    except FileNotFoundError:
        return rel, "", "missing", None, (), None
    except DataError as exc:
        return rel, "", str(exc), None, (None,) * (len(COLUMNS) + len(DERIVED)), None
    blob = blob_id(raw)
    try:
        text = raw.decode("utf-8")
        data = load(text, rel)
        # The same checks as validate: whatever reads the index may trust its rows.
        if check_case_data(data) or Workspace(Path(root)).case_relpath(data["id"]) != rel:
            raise ValueError("schema")
        if TOKEN_PREFIX in text:
            data = _sealer(root).open_case(data)
        Case.from_dict(data)
    except (DataError, UnicodeDecodeError, KeyError, TypeError, AttributeError, ValueError) as exc:
        message = str(exc) if isinstance(exc, DataError) else _first_problem(raw, rel, exc)
        return rel, blob, message, None, (None,) * (len(COLUMNS) + len(DERIVED)), None
    values = tuple(_column_text(data.get(c)) for c in COLUMNS)
    payload = json.dumps(data, ensure_ascii=False, default=str, separators=(",", ":"))
    return rel, blob, None, payload, (*values, _assigned_at(data), _active_at(data)), textindex.text_of(data)


def _column_text(value: Any) -> str | None:
    if value is None:
        return None
    return ",".join(map(str, value)) if isinstance(value, list) else str(value)


def _first_problem(raw: bytes, rel: str, exc: Exception) -> str:
    """What validate says about a file the model could not take (with its line)."""
    try:
        data, lines = load_with_lines(raw.decode("utf-8"), rel)
    except (DataError, UnicodeDecodeError):
        return f"{rel}: unreadable case file ({exc})"
    problems = check_case_data(data, rel, lines)
    if problems:
        return str(problems[0])
    return f"{rel}:{lines.get('id', 1)}: CASE_WRONG_PATH a case with id {data.get('id')} is not kept here"


_SEALERS: dict[str, Sealer] = {}


def _sealer(root: str) -> Sealer:
    """One sealer per workspace for the life of a (worker) process: a rebuild
    opens thousands of files under rules that do not change meanwhile."""
    if root not in _SEALERS:
        _SEALERS[root] = sealer_for(Workspace(Path(root)))
    return _SEALERS[root]


def _store(conn: sqlite3.Connection, parsed: Iterable[Parsed]) -> int:
    names = (*COLUMNS, *DERIVED)
    insert_case = (
        f"INSERT OR REPLACE INTO cases (path, id, blob, error, {', '.join(names)}) "
        f"VALUES (?, ?, ?, ?, {', '.join('?' * len(names))})"
    )
    count = 0
    for rel, blob, error, payload, values, text in parsed:
        count += 1
        textindex.replace(conn, rel, Path(rel).stem, values[0] if values else None, text)
        # Re-read (changed, or its key destroyed): what was derived from it goes too.
        kpifacts.forget(conn, rel)
        if error == "missing":
            conn.execute("DELETE FROM cases WHERE path = ?", (rel,))
            conn.execute("DELETE FROM payloads WHERE path = ?", (rel,))
            slafacts.forget(conn, rel)
            continue
        conn.execute(insert_case, (rel, Path(rel).stem, blob, error, *values))
        conn.execute("INSERT OR REPLACE INTO payloads VALUES (?, ?)", (rel, payload))
    return count


def _assigned_at(data: dict[str, Any]) -> str | None:
    """UTC time of the last event that changed the assignee (None if never assigned)."""
    for event in reversed(data.get("events") or []):
        if "assignee" in (event.get("changes") or {}):
            try:
                return to_utc(event["at"]).isoformat()
            except (ValueError, TypeError, KeyError):
                return None
    return None


def _active_at(data: dict[str, Any]) -> str | None:
    try:
        return to_utc(data["events"][-1]["at"]).isoformat()
    except (ValueError, TypeError, KeyError, IndexError):
        return None


def _parse_many(root: Path, paths: list[str]) -> Iterator[Parsed]:
    jobs = [(str(root), rel) for rel in paths]
    if len(jobs) < PARALLEL_FROM or (os.cpu_count() or 1) < 2:
        yield from map(parse_file, jobs)
        return
    from concurrent.futures import ProcessPoolExecutor  # only a large rebuild pays for importing it

    with ProcessPoolExecutor() as pool:
        yield from pool.map(parse_file, jobs, chunksize=500)


def _changed_since(ws: Workspace, indexed: str, current: str) -> list[str] | None:
    """Case files that commits changed since ``indexed``; None if it is not an ancestor
    of HEAD (history was rewritten, or the commit is gone): then only a rebuild is safe."""
    if not git_ok(ws.root, "merge-base", "--is-ancestor", indexed, current):
        return None
    out = git(
        ws.root, "diff-tree", "-r", "-z", "--no-renames", "--name-only", indexed, current, "--", "cases"
    )
    return [p for p in out.split("\0") if p.endswith(".yaml")]


def _worktree_changes(ws: Workspace) -> list[str]:
    """Case files that differ from git's index, or that git does not track yet.

    Both questions stat every file (the cost of a warm read at 100k cases), so the
    two git processes run side by side.
    """
    commands = (
        ["git", "diff-files", "-z", "--name-only", "--", "cases"],
        ["git", "ls-files", "-z", "--others", "--exclude-standard", "--", "cases"],
    )
    procs = [
        subprocess.Popen(c, cwd=ws.root, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=git_environ())
        for c in commands
    ]
    out = b"".join(proc.communicate()[0] for proc in procs).decode("utf-8")
    return [p for p in out.split("\0") if p.endswith(".yaml")]


def refresh(
    ws: Workspace, conn: sqlite3.Connection | None = None, force: bool = False, worktree: bool = True
) -> tuple[sqlite3.Connection, IndexStatus]:
    """Bring the index up to date with the work tree; returns it and what was done.

    ``worktree=False`` follows commits only and skips the scan for hand edits (the
    cost of a read at 100k files), for answers that may ignore uncommitted edits.
    """
    conn = conn or open_current(ws)
    _SEALERS.clear()  # rules.yaml or the key store may have changed since the last refresh
    current = head(ws.root)
    conn.execute("BEGIN IMMEDIATE")
    try:
        indexed = _meta(conn, "commit")
        previous_dirty = json.loads(_meta(conn, "dirty") or "[]")
        changed = (
            None
            if force or indexed is None or current is None
            else ([] if indexed == current else _changed_since(ws, indexed, current))
        )
        keys_label, erased_seq, erased = _key_changes(ws, conn)
        if _meta(conn, "keys") != keys_label:
            changed = None
        rebuilt = changed is None
        dirty = _worktree_changes(ws) if worktree or rebuilt else previous_dirty
        if rebuilt:
            paths = [str(p.relative_to(ws.root)) for p in iter_case_paths(ws)]
            slafacts.prepare_bulk_write(conn, len(paths))
            conn.execute("DELETE FROM cases")
            conn.execute("DELETE FROM payloads")
            textindex.clear(conn)
            slafacts.clear(conn)
            kpifacts.clear(conn)
            refreshed = _store(conn, _parse_many(ws.root, paths))
        else:
            wanted = sorted(set(changed or ()) | set(dirty) | set(previous_dirty))
            stored = (
                dict(
                    conn.execute(
                        f"SELECT path, blob FROM cases WHERE path IN ({','.join('?' * len(wanted))})", wanted
                    ).fetchall()
                )
                if wanted
                else {}
            )
            stale = [p for p in wanted if _blob_of(ws.root / p, ws.root) != stored.get(p)]
            forget = sorted(set(erased) - set(stale))
            refreshed = _store(conn, _parse_many(ws.root, stale + forget))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('keys', ?)", (keys_label,))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('erased', ?)", (str(erased_seq),))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('commit', ?)", (current,))
        conn.execute("INSERT OR REPLACE INTO meta VALUES ('dirty', ?)", (json.dumps(dirty),))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if erased:
        # The full-text index keeps a deleted text's terms until its segments merge:
        # merge them now; then the old pages of erased rows leave the write-ahead log.
        textindex.optimize(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    total = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    return conn, IndexStatus(str(db_path(ws)), total, current, current, refreshed, rebuilt)


def _key_changes(ws: Workspace, conn: sqlite3.Connection) -> tuple[str, int, list[str]]:
    """(where keys come from, the last destruction seen, case files whose key was
    destroyed since the index last looked and that it holds)."""
    sealer = sealer_for(ws)
    seen = int(_meta(conn, "erased") or 0)
    destroyed = sealer.keys.destroyed_since(seen)
    if not destroyed:
        return key_store_label(sealer), seen, []
    paths = [ws.case_relpath(d.key_id) for d in destroyed if is_valid_id(d.key_id)]
    held = {row[0] for row in conn.execute("SELECT path FROM cases")} if paths else set()
    return key_store_label(sealer), destroyed[-1].seq, [p for p in paths if p in held]


def _blob_of(path: Path, root: Path) -> str | None:
    try:
        return blob_id(read_regular(path, root))
    except FileNotFoundError:
        return None
    except DataError:
        return ""  # no blob: read again, and kept as a broken file


def status(ws: Workspace) -> IndexStatus:
    """What the index holds, without refreshing it."""
    path = db_path(ws)
    if not path.exists():
        return IndexStatus(str(path), 0, None, head(ws.root), 0, False)
    conn = open_current(ws)
    total = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
    return IndexStatus(str(path), total, _meta(conn, "commit"), head(ws.root), 0, False)


def broken_files(ws: Workspace, conn: sqlite3.Connection | None = None) -> list[tuple[str, str]]:
    """(path, error) of every case file the index could not read, from a current index
    (``conn``: one just refreshed)."""
    conn = conn or refresh(ws)[0]
    return _broken_rows(conn)


def _broken_rows(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    # Sorted here, not by SQL: ORDER BY path makes SQLite walk every row in path
    # order instead of the few in the partial index cases_broken (25 ms at 100k).
    return sorted(conn.execute("SELECT path, error FROM cases WHERE error IS NOT NULL"))


def raise_broken(conn: sqlite3.Connection, skip_broken: bool = False) -> None:
    """A broken file stops a read that must see every case (a writer, routing);
    sweeps, listings and reports skip it (``skip_broken``) and report it apart."""
    if skip_broken:
        return
    broken = _broken_rows(conn)
    if broken:
        more = f" (and {len(broken) - 1} more broken files)" if len(broken) > 1 else ""
        raise DataError(f"{broken[0][1]}{more}", hint="fix it, then see all with: cmtool validate")


def _status_clause(statuses: Collection[str] | None) -> tuple[str, list[Any]]:
    if statuses is None:
        return "", []
    return f" AND status IN ({','.join('?' * len(statuses))})", list(statuses)


def load_cases(
    ws: Workspace,
    statuses: Collection[str] | None = None,
    active_since: datetime | None = None,
    open_statuses: Collection[str] = (),
    skip_broken: bool = False,
) -> list[Case]:
    """Cases in ID order, from a current index: only those in ``statuses`` if given,
    and with ``active_since`` only cases still open or changed at or after it."""
    conn, _ = refresh(ws)
    where, params = _status_clause(statuses)
    if active_since is not None:
        marks = ",".join("?" * len(open_statuses)) or "NULL"
        where += f" AND (status IN ({marks}) OR active_at >= ?)"
        params += [*open_statuses, to_utc(active_since).isoformat()]
    raise_broken(conn, skip_broken)
    rows = conn.execute(
        "SELECT p.data FROM cases c JOIN payloads p ON p.path = c.path "
        f"WHERE c.error IS NULL{where} ORDER BY c.id",
        params,
    )
    return [fastjson.case_of(data) for (data,) in rows]


def summary_rows(
    ws: Workspace, statuses: Collection[str] | None = None, skip_broken: bool = False
) -> list[dict[str, Any]]:
    """The list columns of each case, straight from SQL, without building Case objects."""
    conn, _ = refresh(ws)
    where, params = _status_clause(statuses)
    raise_broken(conn, skip_broken)
    rows = conn.execute(
        f"SELECT id, {', '.join(COLUMNS)} FROM cases WHERE error IS NULL{where} ORDER BY id", params
    )
    names = ("id", *COLUMNS)
    return [dict(zip(names, row, strict=True)) for row in rows]


def stale_paths(ws: Workspace) -> list[str]:
    """Rows that disagree with git and the work tree: a full check, for `index status`.

    ``git ls-tree -r HEAD`` gives every committed blob id in one call (~50 ms at
    100k files); files changed in the work tree are compared by their own blob.
    """
    conn, _ = refresh(ws)
    stored = dict(conn.execute("SELECT path, blob FROM cases"))
    expected: dict[str, str] = {}
    for record in git(ws.root, "ls-tree", "-r", "-z", "HEAD", "--", "cases").split("\0"):
        if record.endswith(".yaml"):
            meta, path = record.split("\t", 1)
            expected[path] = meta.split()[2]
    for path in _worktree_changes(ws):
        blob = _blob_of(ws.root / path, ws.root)
        if blob is None:
            expected.pop(path, None)
        else:
            expected[path] = blob
    expected = {p: b for p, b in expected.items() if (ws.root / p).exists()}
    return sorted(p for p in set(stored) | set(expected) if stored.get(p) != expected.get(p))


def rebuild(ws: Workspace) -> IndexStatus:
    return refresh(ws, force=True)[1]
