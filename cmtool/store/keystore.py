"""Where the data keys of sealed personal data live: never in the repository.

A key store maps a key id (the case ID: one data subject's record, one key) to a
256-bit data key. Destroying a key is the erasure: every copy of the ciphertext,
in every commit of every clone and remote, becomes noise. The store remembers
*that* a key was destroyed (id, when, why), never the key, so a clone can tell
an erased record from one whose key it merely lacks, and its index can forget
what it had decrypted.

``KeyStore`` is the interface a larger organisation implements over its key
manager (docs/privacy.md); ``SqliteKeyStore`` is the default, a single SQLite
file on a share the team can reach.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cmtool.errors import CmtoolError, UsageError

KEY_BYTES = 32

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, key BLOB NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS destroyed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, at TEXT NOT NULL, reason TEXT NOT NULL
);
"""


class KeyStoreUnavailable(CmtoolError):
    """Personal data must be sealed but no key store can be reached."""


@dataclass(frozen=True)
class Destroyed:
    seq: int
    key_id: str
    at: str
    reason: str


class KeyStore(Protocol):
    def get(self, key_id: str) -> bytes | None: ...
    def create(self, key_id: str, at: str) -> bytes: ...
    def destroy(self, key_id: str, at: str, reason: str) -> bool: ...
    def destroyed_since(self, seq: int) -> list[Destroyed]: ...
    def key_ids(self) -> set[str]: ...


class SqliteKeyStore:
    """Keys in one SQLite file. ``secure_delete`` overwrites a destroyed key's bytes
    in the file itself; copies outside it (backups, snapshots) are the owner's to
    control (docs/privacy.md says what that means)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._cache: dict[str, bytes] | None = None

    def _connect(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is not None:
            return self._conn
        if not self.path.exists():
            if not create:
                return None
            if not self.path.parent.is_dir():
                raise KeyStoreUnavailable(
                    f"key store folder {self.path.parent} does not exist",
                    hint="mount the share or create the folder; docs/privacy.md",
                )
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA secure_delete=ON")
            conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise KeyStoreUnavailable(f"key store {self.path}: {exc}") from None
        self._conn = conn
        return conn

    def ensure(self) -> None:
        """Create the file now (so a missing share is found at setup, not at filing)."""
        self._connect(create=True)

    def _keys(self) -> dict[str, bytes]:
        # One read of every key: a sweep over 100k cases asks SQLite once.
        if self._cache is None:
            conn = self._connect(create=False)
            self._cache = dict(conn.execute("SELECT id, key FROM keys")) if conn else {}
        return self._cache

    def get(self, key_id: str) -> bytes | None:
        return self._keys().get(key_id)

    def key_ids(self) -> set[str]:
        return set(self._keys())

    def create(self, key_id: str, at: str) -> bytes:
        existing = self.get(key_id)
        if existing is not None:
            return existing
        conn = self._connect(create=True)
        assert conn is not None
        if conn.execute("SELECT 1 FROM destroyed WHERE id = ?", (key_id,)).fetchone():
            raise UsageError(f"the key of {key_id} was destroyed; nothing new can be sealed for it")
        key = os.urandom(KEY_BYTES)
        conn.execute("INSERT OR IGNORE INTO keys VALUES (?, ?, ?)", (key_id, key, at))
        stored = conn.execute("SELECT key FROM keys WHERE id = ?", (key_id,)).fetchone()[0]
        self._keys()[key_id] = stored
        return stored

    def destroy(self, key_id: str, at: str, reason: str) -> bool:
        """Forget a key for good; True if there was one. Recorded as destroyed either way."""
        conn = self._connect(create=True)
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            had = conn.execute("DELETE FROM keys WHERE id = ?", (key_id,)).rowcount > 0
            conn.execute(
                "INSERT OR IGNORE INTO destroyed (id, at, reason) VALUES (?, ?, ?)", (key_id, at, reason)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._keys().pop(key_id, None)
        return had

    def destroyed_since(self, seq: int) -> list[Destroyed]:
        conn = self._connect(create=False)
        if conn is None:
            return []
        rows = conn.execute("SELECT seq, id, at, reason FROM destroyed WHERE seq > ? ORDER BY seq", (seq,))
        return [Destroyed(*row) for row in rows]


class NoKeys:
    """No key store configured or reachable: everything sealed stays sealed."""

    def __init__(self, why: str) -> None:
        self.why = why

    def get(self, key_id: str) -> bytes | None:
        return None

    def key_ids(self) -> set[str]:
        return set()

    def create(self, key_id: str, at: str) -> bytes:
        raise KeyStoreUnavailable(self.why, hint="see docs/privacy.md (key store)")

    def destroy(self, key_id: str, at: str, reason: str) -> bool:
        raise KeyStoreUnavailable(self.why, hint="see docs/privacy.md (key store)")

    def destroyed_since(self, seq: int) -> list[Destroyed]:
        return []
