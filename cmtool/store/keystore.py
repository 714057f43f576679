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

import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from cmtool.errors import CmtoolError, UsageError
from cmtool.store.identity import IdentityMissing, NotAMember, deliberately_none, load_identity, unwrap_with

KEY_BYTES = 32
_NONCE = 12
KEK_GENERATION = "kek_generation"  # meta: 0 or absent = keys kept unwrapped (no members)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (id TEXT PRIMARY KEY, key BLOB NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS destroyed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, at TEXT NOT NULL, reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS members (
    name TEXT PRIMARY KEY, public_key TEXT UNIQUE NOT NULL, wrapped_kek BLOB NOT NULL,
    added_at TEXT NOT NULL, added_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Every enrolment and removal, kept: who could open the store, and since when.
CREATE TABLE IF NOT EXISTS member_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, action TEXT NOT NULL,
    name TEXT NOT NULL, public_key TEXT NOT NULL, by TEXT NOT NULL
);
"""

log = logging.getLogger("cmtool")
_WARNED: set[str] = set()


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


# -- the team's key-encryption key (KEK) and the data keys under it -----------


def kek_generation(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE name = ?", (KEK_GENERATION,)).fetchone()
    return int(row[0]) if row else 0


def open_kek(conn: sqlite3.Connection, identity_file: Path | None, where: Path) -> bytes:
    """The KEK, opened with this user's identity; IdentityMissing or NotAMember
    (saying what to do) when it cannot be."""
    try:
        me = load_identity(identity_file)
    except IdentityMissing as exc:
        raise IdentityMissing(f"key store {where} opens only for its members: {exc}", hint=exc.hint) from None
    row = conn.execute("SELECT wrapped_kek FROM members WHERE public_key = ?", (me.public_text,)).fetchone()
    join = f"ask a member to run: cmtool privacy members add YOURNAME {me.public_text}"
    if row is None:
        raise NotAMember(f"your identity ({me.path}) is not a member of key store {where}", hint=join)
    kek = unwrap_with(me, bytes(row[0]))
    if kek is None or len(kek) != KEY_BYTES:
        raise NotAMember(f"key store {where}: the key wrapped for your identity does not open", hint=join)
    return kek


_KEY_AAD = b"cmtool-data-key:v1\0"  # + the key id: a sealed key opens only under its own id


def wrap_key(kek: bytes, key_id: str, key: bytes) -> bytes:
    """A data key sealed under the KEK: nonce (12) + AES-256-GCM ciphertext and tag."""
    nonce = os.urandom(_NONCE)
    return nonce + _aead(kek).encrypt(nonce, key, _KEY_AAD + key_id.encode())


def key_opener(kek: bytes) -> Callable[[str, bytes], bytes | None]:
    """Opens data keys sealed under ``kek`` (None for one that does not open):
    bound once, as a sweep opens 100k of them one after another."""
    from cryptography.exceptions import InvalidTag

    decrypt = _aead(kek).decrypt

    def open_key(key_id: str, wrapped: bytes) -> bytes | None:
        try:
            return decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _KEY_AAD + key_id.encode())
        except (InvalidTag, ValueError):
            return None

    return open_key


@lru_cache(maxsize=4)
def _aead(kek: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(kek)


class SqliteKeyStore:
    """Keys in one SQLite file. With no members enrolled the data keys are kept as
    they are, protected by the file's permissions alone; once a member is enrolled
    (``keymembers``) each data key is sealed under the team's KEK, and the KEK is
    wrapped for each member's identity. ``secure_delete`` overwrites a destroyed
    key's bytes in the file itself; copies outside it (backups, snapshots) are the
    owner's to control (docs/privacy.md says what that means)."""

    def __init__(self, path: Path, identity_file: Path | None = None) -> None:
        self.path = path
        self.identity_file = identity_file  # None: $CMTOOL_IDENTITY or the default place
        self._conn: sqlite3.Connection | None = None
        self._rows: dict[str, bytes] | None = None  # key id -> the stored bytes
        self._generation = 0  # of the KEK the rows are sealed under; 0 = not sealed
        self._kek: bytes | None = None
        self._unseal: Callable[[str, bytes], bytes | None] | None = None
        self._opened: dict[str, bytes] = {}
        self.locked: CmtoolError | None = None  # why this user cannot open the KEK

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

    def connection(self) -> sqlite3.Connection:
        """The open store, for managing its members; KeyStoreUnavailable if it has no file."""
        conn = self._connect(create=False)
        if conn is None:
            raise KeyStoreUnavailable(
                f"key store {self.path} does not exist here", hint="mount the share; docs/privacy.md"
            )
        return conn

    def _load(self) -> dict[str, bytes]:
        # One read of every key (and the KEK once): a sweep over 100k cases asks
        # SQLite once; each data key is unsealed when first asked for.
        if self._rows is None:
            conn = self._connect(create=False)
            if conn is None:  # no file yet: nothing sealed, the first key will make it
                self._rows = self._opened = {}
                return self._rows
            conn.execute("BEGIN")  # rows and KEK from one snapshot of the file
            try:
                self._read(conn)
            finally:
                conn.execute("COMMIT")
        return self._rows  # type: ignore[return-value]

    def _read(self, conn: sqlite3.Connection) -> None:
        self._rows = {key_id: bytes(key) for key_id, key in conn.execute("SELECT id, key FROM keys")}
        self._generation, self._kek, self._unseal, self.locked = kek_generation(conn), None, None, None
        self._opened = {} if self._generation else self._rows
        if not self._generation:
            return
        try:
            self._kek = open_kek(conn, self.identity_file, self.path)
            self._unseal = key_opener(self._kek)
        except CmtoolError as exc:
            self.locked = exc
            if str(self.path) not in _WARNED and not (self.identity_file is None and deliberately_none()):
                _WARNED.add(str(self.path))
                log.warning("%s; personal data reads [sealed] (%s)", exc, exc.hint or "docs/privacy.md")

    def get(self, key_id: str) -> bytes | None:
        rows = self._load()
        key = self._opened.get(key_id)
        if key is None and self._unseal is not None and key_id in rows:
            key = self._unseal(key_id, rows[key_id])
            if key is not None:
                self._opened[key_id] = key
        return key

    def key_ids(self) -> set[str]:
        """Every key the store holds, whether or not this user can open it."""
        return set(self._load())

    def label(self) -> str:
        """Where keys come from, and why they do not open here if they do not. The
        index rebuilds when it changes, so it only changes with what opens: enrolling
        the first member changes nothing a member reads, and costs no rebuild."""
        self._load()
        return str(self.path) if self.locked is None else f"{self.path} (locked: {self.locked})"

    def create(self, key_id: str, at: str) -> bytes:
        existing = self.get(key_id)
        if existing is not None:
            return existing
        conn = self._connect(create=True)
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM destroyed WHERE id = ?", (key_id,)).fetchone():
                raise UsageError(f"the key of {key_id} was destroyed; nothing new can be sealed for it")
            if self._rows is None or kek_generation(conn) != self._generation:
                self._read(conn)  # the KEK was replaced meanwhile: seal under the new one
            if self.locked is not None:
                raise self.locked
            if conn.execute("SELECT 1 FROM keys WHERE id = ?", (key_id,)).fetchone() is None:
                key = os.urandom(KEY_BYTES)
                stored = wrap_key(self._kek, key_id, key) if self._kek is not None else key
                conn.execute("INSERT INTO keys VALUES (?, ?, ?)", (key_id, stored, at))
            row = conn.execute("SELECT key FROM keys WHERE id = ?", (key_id,)).fetchone()
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._load()[key_id] = bytes(row[0])
        key = self.get(key_id)
        if key is None:
            raise KeyStoreUnavailable(f"key store {self.path}: the key of {key_id} does not open")
        return key

    def destroy(self, key_id: str, at: str, reason: str) -> bool:
        """Forget a key for good; True if there was one. Recorded as destroyed either way.
        Needs write access to the file, not the KEK: a purge by cron opens nothing."""
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
        self._load().pop(key_id, None)
        self._opened.pop(key_id, None)
        return had

    def forget_loaded(self) -> None:
        """Read the file again at the next question (after its members changed)."""
        self._rows, self._kek, self._unseal, self._opened, self.locked = None, None, None, {}, None
        self._generation = 0

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
