"""Case IDs: unique without coordination, short enough to read aloud, sortable by date.

``C-YYMMDD-TTRRRRR``: the filing date, then two Crockford base-32 characters for
the ~84-second slot of the day (1024 slots) and five random ones (2**25). Two
clones collide only when they file in the same slot of the same day *and* draw
the same 25 random bits (about one in 33 million per such pair). Crockford's
alphabet has no I, L, O or U, so an ID survives being read over the phone, and
its ASCII order is the order of the values, so IDs sort by filing time.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_RE = re.compile(r"C-\d{6}-[0-9A-HJKMNP-TV-Z]{7}")
PREFIX_RE = re.compile(r"[A-Za-z0-9-]{1,16}")
_SLOTS = 1024
_SECONDS_PER_DAY = 86400


def _encode(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))


def new_id(filed_at: datetime, randbits: Callable[[int], int] = secrets.randbits) -> str:
    """A fresh ID for a case filed at ``filed_at`` (its local date is the one shown)."""
    seconds = filed_at.hour * 3600 + filed_at.minute * 60 + filed_at.second
    slot = seconds * _SLOTS // _SECONDS_PER_DAY
    return f"C-{filed_at:%y%m%d}-{_encode(slot, 2)}{_encode(randbits(25), 5)}"


def is_valid_id(text: str) -> bool:
    return bool(ID_RE.fullmatch(text))


def normalize_prefix(text: str) -> str:
    """Upper-case a user-typed prefix and map look-alike letters as Crockford does.

    Raises ValueError for anything that cannot be part of an ID (path separators,
    dots...), so a hostile argument never reaches the file system.
    """
    value = text.strip()
    if not PREFIX_RE.fullmatch(value):
        raise ValueError(f"{text!r} is not a case ID (IDs look like C-251123-K7XQ2MA)")
    value = value.upper()
    head, _, tail = value.rpartition("-") if value.count("-") >= 2 else ("", "", value)
    if head:
        tail = tail.replace("I", "1").replace("L", "1").replace("O", "0")
        value = f"{head}-{tail}"
    if not value.startswith("C"):
        value = "C-" + value
    return value


def filing_month(case_id: str) -> tuple[int, int]:
    """(year, month) of the shard folder a case lives in, read from its ID."""
    stamp = case_id[2:8]
    return 2000 + int(stamp[:2]), int(stamp[2:4])
