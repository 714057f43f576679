"""The workspace lock: one writer at a time, a bounded wait, no stale locks.

``flock`` on ``.git/cmtool.lock``: the kernel releases it when the holder
dies, so a lock left by a killed process clears itself. The holder writes its
pid and command into the file, so a waiting process can say who it waits for.
"""

from __future__ import annotations

import fcntl
import math
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cmtool.errors import Busy, UsageError

DEFAULT_TIMEOUT = 30.0


MAX_TIMEOUT = 24 * 3600.0


def lock_timeout() -> float:
    text = os.environ.get("CMTOOL_LOCK_TIMEOUT")
    return DEFAULT_TIMEOUT if text is None else checked_timeout(text, "CMTOOL_LOCK_TIMEOUT")


def checked_timeout(value: float | str, name: str = "--lock-timeout") -> float:
    """Seconds to wait for the lock: a finite number from 0 to a day. ``nan`` would
    compare false with every deadline and ``inf`` never pass one: both wait forever."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = math.nan
    if not (0 <= seconds <= MAX_TIMEOUT):
        raise UsageError(
            f"{name} {value!r}: give seconds to wait for the lock, from 0 to {MAX_TIMEOUT:g}",
            hint="e.g. 30",
        )
    return seconds


@contextmanager
def workspace_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    limit = lock_timeout() if timeout is None else checked_timeout(timeout)
    deadline = time.monotonic() + limit
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole block
    try:
        delay = 0.01
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another cmtool process"
                    raise Busy(
                        f"workspace is busy: locked by {holder}; gave up after {limit:g} s",
                        hint="try again later, or raise CMTOOL_LOCK_TIMEOUT",
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} ({' '.join(sys.argv[1:3]) or 'cmtool'})\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the flock
