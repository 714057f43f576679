"""``attachments:`` of rules.yaml: how large one evidence file may be."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmtool.rules.checker import Checker

DEFAULT_MAX_MB = 25
HARD_MAX_MB = 2048  # beyond this a file belongs in a document store, not a git repository


def build_attachment_limit(c: Checker, data: Mapping[str, Any]) -> int:
    """The largest attachment in bytes."""
    section = c.mapping(data.get("attachments"), "attachments")
    for key in section:
        if key != "max_size_mb":
            c.bad(f"attachments.{key}", f"unknown key {key!r}: use max_size_mb")
    value = section.get("max_size_mb", DEFAULT_MAX_MB)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= HARD_MAX_MB:
        c.bad("attachments.max_size_mb", f"must be a number of megabytes above 0 and at most {HARD_MAX_MB}")
        value = DEFAULT_MAX_MB
    return int(value * 1024 * 1024)
