"""What wrapping the key store for its members costs, at a given number of case keys.

    python benchmarks/keystore.py                    # 100,000 keys, 3 runs
    python benchmarks/keystore.py --keys 1000 --runs 1   # CI: a smoke run

Builds a key store of N random case keys in a temporary folder, then times, each
as the median of the runs (min and max beside it):

- every key read from the store kept unwrapped (no members: the file's
  permissions alone protect it);
- the first ``members add``, which seals every key under a new team key;
- a fresh process's view of the wrapped store: read it, open the team key with an
  identity, then open every case key (what a sweep over N cases asks for);
- ``members remove``, which replaces the team key and seals every key again.

The identities are real X25519 identity files; nothing is mocked. Read the rows
against each other: absolute seconds on a shared machine move with its load.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cmtool.store import keymembers  # noqa: E402
from cmtool.store.identity import create_identity  # noqa: E402
from cmtool.store.keystore import SqliteKeyStore  # noqa: E402

AT = "2025-01-01T00:00:00+00:00"


def build(folder: Path, count: int) -> tuple[Path, list[str]]:
    path = folder / "keys.sqlite"
    SqliteKeyStore(path).ensure()
    ids = [f"C-250101-{n:07d}" for n in range(count)]
    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO keys VALUES (?, ?, ?)", ((i, os.urandom(32), AT) for i in ids))
    return path, ids


def every_key(path: Path, ids: list[str], identity: Path | None) -> None:
    store = SqliteKeyStore(path, identity)
    opened = sum(1 for key_id in ids if store.get(key_id) is not None)
    assert opened == len(ids), f"{opened} of {len(ids)} keys opened"


def timed(step: Callable[[], object]) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def run(count: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="cmtool-keystore-") as tmp:
        folder = Path(tmp)
        path, ids = build(folder, count)
        me, _ = create_identity(folder / "me")
        other, _ = create_identity(folder / "other")
        out = {"read every key, unwrapped": timed(lambda: every_key(path, ids, None))}
        store = SqliteKeyStore(path, me.path)
        out["members add (the first: seals every key)"] = timed(
            lambda: keymembers.add_member(store, "me", me.public_text, AT, "me")
        )
        keymembers.add_member(store, "other", other.public_text, AT, "me")
        out["read every key, wrapped (team key once, then each)"] = timed(
            lambda: every_key(path, ids, me.path)
        )
        out["members remove (new team key, seals every key again)"] = timed(
            lambda: keymembers.remove_member(SqliteKeyStore(path, me.path), "other", AT, "me")
        )
        out["read every key, after the removal"] = timed(lambda: every_key(path, ids, me.path))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--keys", type=int, default=100_000, help="case keys in the store (default 100000)")
    parser.add_argument("--runs", type=int, default=3, help="runs; each row shows the median (default 3)")
    args = parser.parse_args()
    results = [run(args.keys) for _ in range(args.runs)]
    print(f"key store with {args.keys:,} case keys, {args.runs} run(s): median (min-max) seconds")
    for label in results[0]:
        times = [r[label] for r in results]
        print(f"  {label:<56} {statistics.median(times):7.3f}  ({min(times):.3f}-{max(times):.3f})")


if __name__ == "__main__":
    main()
