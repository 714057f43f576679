"""ISO 8601 times with an offset: the only time format in case files."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

# How far ahead of the computer's clock a recorded time may be (clock skew between
# clones, time zones). Further ahead, an event would freeze its case: no later
# action may be dated before it.
MAX_AHEAD = timedelta(days=1)
# Times outside these years are typing errors or attacks; refusing them keeps every
# calculation (deadlines years ahead, UTC conversion) inside what datetime can hold.
MIN_YEAR, MAX_YEAR = 1970, 2999  # git cannot record a commit before 1970


def parse_time(text: str | datetime) -> datetime:
    """Parse an ISO 8601 time; naive times are refused (an offset is required)."""
    if isinstance(text, datetime):
        moment = text
    else:
        value = str(text).strip()
        if value.endswith("Z"):
            value = value[:-1] + "+00:00"
        moment = datetime.fromisoformat(value)
        if not MIN_YEAR <= moment.year <= MAX_YEAR:
            raise ValueError(f"time {text!s} is outside the years {MIN_YEAR}-{MAX_YEAR}")
    if moment.tzinfo is None:
        raise ValueError(f"time {text!s} has no UTC offset (write e.g. 2025-03-18T09:30:00+08:00)")
    return moment


def format_time(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.isoformat(timespec="seconds")


def to_utc(text: str | datetime) -> datetime:
    return parse_time(text).astimezone(timezone.utc)


def too_far_ahead(moment: str | datetime, clock: datetime | None = None) -> bool:
    """Is ``moment`` more than MAX_AHEAD after ``clock`` (default: the real time)?"""
    return parse_time(moment) > (clock or datetime.now(timezone.utc)) + MAX_AHEAD
