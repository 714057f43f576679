"""Who can open a shared key store: its members, each with the team's KEK wrapped
for their identity (``identity``).

Enrolling the first member seals every data key under a new KEK; removing a
member replaces the KEK, re-seals every data key under the new one and wraps it
for the members who stay, all in one transaction: from then on nothing in the
file opens with the removed member's identity or with the old KEK.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from cmtool.errors import CmtoolError, NotFound, Refused, UsageError
from cmtool.store.identity import (
    Identity,
    IdentityMissing,
    load_identity,
    parse_public,
    public_text,
    wrap_for,
)
from cmtool.store.keystore import (
    KEK_GENERATION,
    KEY_BYTES,
    SqliteKeyStore,
    kek_generation,
    key_opener,
    open_kek,
    wrap_key,
)

MAX_NAME = 64


@dataclass(frozen=True)
class Member:
    name: str
    public_key: str
    added_at: str
    added_by: str
    you: bool

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LogEntry:
    seq: int
    at: str
    action: str  # "add" | "remove"
    name: str
    public_key: str
    by: str

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Change:
    member: str
    members: int  # enrolled after the change
    keys: int  # data keys sealed under a new KEK by it (0: the KEK stayed)


def members(store: SqliteKeyStore) -> list[Member]:
    try:
        mine = load_identity(store.identity_file).public_text
    except CmtoolError:  # no identity, or a broken one: nobody here is "you"
        mine = None
    rows = store.connection().execute(
        "SELECT name, public_key, added_at, added_by FROM members ORDER BY name"
    )
    return [Member(name, key, at, by, key == mine) for name, key, at, by in rows]


def member_log(store: SqliteKeyStore) -> list[LogEntry]:
    """Every enrolment and removal, oldest first."""
    rows = store.connection().execute(
        "SELECT seq, at, action, name, public_key, by FROM member_log ORDER BY seq"
    )
    return [LogEntry(*row) for row in rows]


def add_member(store: SqliteKeyStore, name: str, public_key: str, at: str, by: str) -> Change:
    """Wrap the KEK for one more member. The first member must be the one running
    this (so the team cannot lock itself out); it seals every data key."""
    name = _checked_name(name)
    public = public_text(parse_public(public_key))
    conn = store.connection()
    with _transaction(conn):
        if conn.execute("SELECT 1 FROM members WHERE name = ?", (name,)).fetchone():
            raise Refused(
                f"{name} is already a member", hint=f"remove them first: cmtool privacy members remove {name}"
            )
        taken = conn.execute("SELECT name FROM members WHERE public_key = ?", (public,)).fetchone()
        if taken:
            raise Refused(f"that public key is already enrolled, as {taken[0]}")
        sealed = 0
        if kek_generation(conn):
            kek = open_kek(conn, store.identity_file, store.path)
        else:
            me = _first_member(store)
            if me.public_text != public:
                raise Refused(
                    f"key store {store.path} has no members yet: the first one must be you, "
                    "or nobody here could open it again",
                    hint=f"cmtool privacy members add YOURNAME {me.public_text}",
                )
            kek = os.urandom(KEY_BYTES)
            sealed = _reseal(conn, lambda _id, raw: raw, kek)
            _set_generation(conn, 1)
        conn.execute(
            "INSERT INTO members VALUES (?, ?, ?, ?, ?)",
            (name, public, wrap_for(parse_public(public), kek), at, by),
        )
        _log(conn, at, "add", name, public, by)
        count = conn.execute("SELECT count(*) FROM members").fetchone()[0]
    store.forget_loaded()
    return Change(name, count, sealed)


def remove_member(store: SqliteKeyStore, name: str, at: str, by: str) -> Change:
    """Remove a member: a new KEK, every data key re-sealed under it, wrapped for
    the members who stay (one transaction)."""
    conn = store.connection()
    with _transaction(conn):
        if not conn.execute("SELECT 1 FROM members WHERE name = ?", (name,)).fetchone():
            known = ", ".join(r[0] for r in conn.execute("SELECT name FROM members ORDER BY name")) or "none"
            raise NotFound(f"{name} is not a member of key store {store.path} (members: {known})")
        staying = conn.execute("SELECT name, public_key FROM members WHERE name != ?", (name,)).fetchall()
        if not staying:
            raise Refused(
                f"{name} is the last member: without one, no key in {store.path} could ever be opened again",
                hint="enrol another member first (cmtool privacy members add)",
            )
        open_key = key_opener(open_kek(conn, store.identity_file, store.path))
        new = os.urandom(KEY_BYTES)

        def opened(key_id: str, wrapped: bytes) -> bytes:
            key = open_key(key_id, wrapped)
            if key is None:
                raise UsageError(
                    f"key store {store.path}: the key of {key_id} does not open; nothing changed"
                )
            return key

        sealed = _reseal(conn, opened, new)
        for other, public in staying:
            conn.execute(
                "UPDATE members SET wrapped_kek = ? WHERE name = ?",
                (wrap_for(parse_public(public), new), other),
            )
        removed = conn.execute("SELECT public_key FROM members WHERE name = ?", (name,)).fetchone()[0]
        conn.execute("DELETE FROM members WHERE name = ?", (name,))
        _log(conn, at, "remove", name, removed, by)
        _set_generation(conn, kek_generation(conn) + 1)
    store.forget_loaded()
    return Change(name, len(staying), sealed)


def _log(conn: sqlite3.Connection, at: str, action: str, name: str, public_key: str, by: str) -> None:
    conn.execute(
        "INSERT INTO member_log (at, action, name, public_key, by) VALUES (?, ?, ?, ?, ?)",
        (at, action, name, public_key, by),
    )


def _first_member(store: SqliteKeyStore) -> Identity:
    try:
        return load_identity(store.identity_file)
    except IdentityMissing as exc:
        raise IdentityMissing(
            f"key store {store.path} has no members yet, and the first one must be you: {exc}",
            hint="run `cmtool privacy keygen`, then: cmtool privacy members add YOURNAME <the key it prints>",
        ) from None


def _reseal(conn: sqlite3.Connection, opened: Callable[[str, bytes], bytes], kek: bytes) -> int:
    """Every data key, as ``opened`` gives it, sealed under ``kek`` in place."""
    rows = conn.execute("SELECT id, key FROM keys").fetchall()
    conn.executemany(
        "UPDATE keys SET key = ? WHERE id = ?",
        ((wrap_key(kek, key_id, opened(key_id, bytes(stored))), key_id) for key_id, stored in rows),
    )
    return len(rows)


def _set_generation(conn: sqlite3.Connection, generation: int) -> None:
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (KEK_GENERATION, str(generation)))


def _checked_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UsageError(f"a member's name is one line of at most {MAX_NAME} characters")
    return name


class _transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on any error: all of a change or none."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, *_rest) -> None:
        self.conn.execute("ROLLBACK" if kind else "COMMIT")
