"""Finding cases: filters for `list`, the summary row of a case, `show`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cmtool.errors import UsageError
from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES, Priority, Status, values

LIST_COLUMNS = ("id", "status", "priority", "category", "channel", "assignee", "customer",
                "filed_at", "title")  # fmt: skip


@dataclass(frozen=True)
class CaseFilter:
    statuses: frozenset[str] = frozenset()
    assignee: str | None = None
    priority: str | None = None
    category: str | None = None
    channel: str | None = None

    def matches(self, state: Mapping[str, Any]) -> bool:
        """``state``: a case's state, or a summary row of it."""
        return (
            (not self.statuses or state.get("status") in self.statuses)
            and (self.assignee is None or state.get("assignee") == self.assignee)
            and (self.priority is None or state.get("priority") == self.priority)
            and (self.category is None or state.get("category") == self.category)
            and (self.channel is None or state.get("channel") == self.channel)
        )


def parse_statuses(text: str | None) -> frozenset[str]:
    """``open`` means every status before resolved; a comma list picks several."""
    if not text:
        return frozenset()
    chosen: set[str] = set()
    for word in (part.strip().lower().replace(" ", "_") for part in text.split(",")):
        if word == "open":
            chosen |= {status.value for status in OPEN_STATUSES}
        elif word == "done":
            chosen |= {Status.RESOLVED.value, Status.CLOSED.value}
        elif word in values(Status):
            chosen.add(word)
        else:
            raise UsageError(f"--status {word!r}: use open, done or one of {', '.join(values(Status))}")
    return frozenset(chosen)


def summary_row(case: Case) -> dict[str, Any]:
    row: dict[str, Any] = {"id": case.id}
    for name in LIST_COLUMNS[1:]:
        row[name] = case.state.get(name)
    return row


def select(rows: Iterable[Mapping[str, Any]], case_filter: CaseFilter,
           sort: Sequence[str] = ("id",), limit: int | None = None) -> list[Mapping[str, Any]]:  # fmt: skip
    """Filter and sort summary rows (or states); ``-field`` sorts descending."""
    for key in sort:
        if key.lstrip("-") not in LIST_COLUMNS:
            raise UsageError(f"--sort {key!r}: sort by one of {', '.join(LIST_COLUMNS)}")
    chosen = [row for row in rows if case_filter.matches(row)]
    for key in reversed(sort):
        name = key.lstrip("-")
        chosen.sort(key=lambda row, n=name: _sort_key(n, row.get(n)), reverse=key.startswith("-"))
    return chosen[:limit] if limit else chosen


def _sort_key(name: str, value: Any) -> tuple[int, Any]:
    """Empty values last; priorities by rank (critical above low), the rest as text."""
    if value is None:
        return (1, "")
    if name == "priority" and value in values(Priority):
        return (0, f"{Priority(value).rank:03d}")
    return (0, str(value))
