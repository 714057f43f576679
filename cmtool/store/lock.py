"""The workspace lock: one writer at a time, a bounded wait, no stale locks.

``flock`` on ``.git/cmtool.lock``: the kernel releases it when the holder
dies, so a lock left by a killed process clears itself. The holder writes its
pid and command into the file, so a waiting process can say who it waits for.
"""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cmtool.errors import Busy

DEFAULT_TIMEOUT = 30.0


def lock_timeout() -> float:
    try:
        return float(os.environ.get("CMTOOL_LOCK_TIMEOUT", DEFAULT_TIMEOUT))
    except ValueError:
        return DEFAULT_TIMEOUT


@contextmanager
def workspace_lock(path: Path, timeout: float | None = None) -> Iterator[None]:
    limit = lock_timeout() if timeout is None else timeout
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
