"""Finding cases: filters for `list` and `export`, the summary row of a case, `show`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cmtool.errors import DataError, UsageError
from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES, Priority, Status, values
from cmtool.model.fields import FIELDS_BY_NAME
from cmtool.store.casefiles import load_case, resolve_id
from cmtool.store.catalog import case_rows
from cmtool.store.workspace import Workspace

LIST_COLUMNS = (
    "id",
    "status",
    "priority",
    "category",
    "channel",
    "assignee",
    "customer",
    "filed_at",
    "title",
)


# Fields `list` and `export` filter on. Free-text fields match a part of the value,
# ignoring case (a name is rarely typed exactly as filed); the rest match exactly.
FILTER_FIELDS = (
    "status",
    "assignee",
    "priority",
    "category",
    "channel",
    "team",
    "region",
    "product",
    "customer",
    "tags",
    "regimes",
)
PARTIAL_MATCH = frozenset({"customer", "product"})
LIST_VALUED = frozenset({"tags", "regimes"})  # a case matches if any of its values does


@dataclass(frozen=True)
class DateRange:
    """Inclusive calendar dates (``YYYY-MM-DD``), compared with the date part of a
    recorded time, in the offset it was recorded in."""

    since: str | None = None
    until: str | None = None

    def contains(self, value: Any) -> bool:
        if self.since is None and self.until is None:
            return True
        day = str(value)[:10] if value else None
        if day is None:
            return False
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)


@dataclass(frozen=True)
class CaseFilter:
    """``wanted``: field -> the values a case may have (a missing field = any).
    Built from the CLI's comma-separated options by :func:`case_filter`."""

    wanted: Mapping[str, frozenset[str]] = field(default_factory=dict)
    filed: DateRange = DateRange()
    closed: DateRange = DateRange()

    @property
    def statuses(self) -> frozenset[str]:
        return self.wanted.get("status", frozenset())

    def matches(self, state: Mapping[str, Any]) -> bool:
        """``state``: a case's state, or a summary row of it."""
        return (
            all(_field_matches(name, state.get(name), wanted) for name, wanted in self.wanted.items())
            and self.filed.contains(state.get("filed_at"))
            and self.closed.contains(state.get("closed_at"))
        )


def _field_matches(name: str, value: Any, wanted: frozenset[str]) -> bool:
    if value is None or value == "":
        return False
    if name in LIST_VALUED:
        have = set(value.split(",")) if isinstance(value, str) else {str(v) for v in value}
        return bool(have & wanted)
    if name in PARTIAL_MATCH:
        text = str(value).casefold()
        return any(part.casefold() in text for part in wanted)
    return str(value) in wanted


def case_filter(
    status: str | None = None,
    assignee: str | None = None,
    priority: str | None = None,
    category: str | None = None,
    channel: str | None = None,
    *,
    filed: DateRange = DateRange(),
    closed: DateRange = DateRange(),
    **others: str | None,
) -> CaseFilter:
    """A filter from comma-separated option values, checked against the enums.
    ``others``: any further field of ``FILTER_FIELDS`` (team=, region=, tags=...)."""
    unknown = sorted(set(others) - set(FILTER_FIELDS))
    if unknown:
        raise UsageError(f"cannot filter on {unknown[0]!r}: use one of {', '.join(FILTER_FIELDS)}")
    given = {"assignee": assignee, "category": category, **others}
    wanted = {name: _choices(text) for name, text in given.items() if text}
    for name, text in (("priority", priority), ("channel", channel)):
        if text:
            wanted[name] = _choices(text, name)
    if status:
        wanted["status"] = parse_statuses(status)
    return CaseFilter({k: v for k, v in wanted.items() if v}, filed, closed)


def date_range(since: str | None, until: str | None, option: str) -> DateRange:
    """``--filed-since/--filed-until`` and the like: ISO dates, inclusive."""
    for text in (since, until):
        if text is not None:
            try:
                date.fromisoformat(text)
            except ValueError:
                raise UsageError(
                    f"--{option}-since/--{option}-until {text!r}: write a date, e.g. 2025-11-30"
                ) from None
    return DateRange(since, until)


def _choices(text: str | None, name: str | None = None) -> frozenset[str]:
    chosen = frozenset(part.strip() for part in (text or "").split(",") if part.strip())
    allowed = FIELDS_BY_NAME[name].choices if name else ()
    unknown = sorted(chosen - set(allowed)) if allowed else []
    if unknown:
        raise UsageError(f"--{name} {unknown[0]!r}: use one of {', '.join(allowed)}")
    return chosen


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


# Shown only when asked for with --columns, but always there to filter and sort on.
EXTRA_COLUMNS = ("team", "region", "product", "tags", "regimes", "closed_at")


def summary_row(case: Case) -> dict[str, Any]:
    row: dict[str, Any] = {"id": case.id}
    for name in (*LIST_COLUMNS[1:], *EXTRA_COLUMNS):
        value = case.state.get(name)
        row[name] = ",".join(map(str, value)) if isinstance(value, list) else value
    return row


def select(
    rows: Iterable[Mapping[str, Any]],
    case_filter: CaseFilter,
    sort: Sequence[str] = ("id",),
    limit: int | None = None,
) -> list[Mapping[str, Any]]:
    """Filter and sort summary rows (or states); ``-field`` sorts descending."""
    sortable = (*LIST_COLUMNS, *EXTRA_COLUMNS)
    for key in sort:
        if key.lstrip("-") not in sortable:
            raise UsageError(f"--sort {key!r}: sort by one of {', '.join(sortable)}")
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


@dataclass(frozen=True)
class ListQuery:
    where: CaseFilter = CaseFilter()
    sort: tuple[str, ...] = ("id",)
    limit: int | None = None
    as_of: str | None = None  # a date, time or commit: the cases as they stood then
    overdue: bool = False  # only open cases with a breached SLA clock
    due_within: str | None = None  # only open cases with a clock due within e.g. "4h"
    sla_states: frozenset[str] = frozenset()  # only open cases with a clock in one of these states
    text: str | None = None  # only cases whose text matches this search


def list_cases(
    ws: Workspace, query: ListQuery, now: datetime, hidden: frozenset[str] = frozenset()
) -> tuple[list[Mapping[str, Any]], tuple[str, ...]]:
    """The rows and columns `cmtool list` prints. Summary rows come straight from
    the index; ``as_of`` rebuilds them from history; SLA filters add the clock.
    ``hidden``: fields the reader may not read, masked before filtering and sorting
    (and refused as a filter: its matches would tell the value)."""
    from cmtool.services.need_to_know import masked_row, refuse_hidden

    refuse_hidden(query.where.wanted, hidden, "filtering on")
    refuse_hidden([key.lstrip("-") for key in query.sort], hidden, "sorting by")
    statuses = query.where.statuses or None
    if query.as_of:
        from cmtool.services.asof import cases_as_of

        rows: list[Mapping[str, Any]] = [summary_row(c) for c in cases_as_of(ws, query.as_of, statuses)]
    else:
        rows = case_rows(ws, statuses, skip_broken=True)
    if query.text:
        from cmtool.store.catalog import search_text

        fields = visible_text_fields(hidden)
        matching = {hit.id for hit in search_text(ws, query.text, None, statuses, fields)}
        rows = [r for r in rows if r["id"] in matching]
    if hidden:
        rows = [masked_row(r, hidden) for r in rows]
    columns = LIST_COLUMNS
    if query.overdue or query.due_within or query.sla_states:
        from cmtool.services.sla_query import parse_window, urgent_clocks

        window = parse_window(query.due_within) if query.due_within else None
        urgent = urgent_clocks(ws, now, query.overdue, window, query.sla_states)
        rows = [
            {**r, "clock": urgent[r["id"]].clock, "due_at": urgent[r["id"]].due_at}
            for r in rows
            if r["id"] in urgent
        ]
        columns = (*columns, "clock", "due_at")
    return select(rows, query.where, query.sort, query.limit), columns


def visible_text_fields(hidden: frozenset[str]) -> tuple[str, ...]:
    """The searchable text fields (title, description, notes, resolution) one may read."""
    from cmtool.store.textindex import TEXT_FIELDS

    return tuple(name for name in TEXT_FIELDS if name not in hidden)


def parse_sla_states(text: str | None) -> frozenset[str]:
    from cmtool.services.sla_query import RUNNING

    chosen = _choices(text)
    unknown = sorted(chosen - set(RUNNING))
    if unknown:
        raise UsageError(f"--sla {unknown[0]!r}: use one of {', '.join(RUNNING)}")
    return chosen


def show_case(ws: Workspace, ref: str, as_of: str | None, now: datetime) -> tuple[Case, list, str | None]:
    """A case, its SLA clocks as of ``now`` (none for a past view), and a warning
    when the clocks cannot be computed: a broken rules.yaml must not hide the case."""
    if as_of:
        from cmtool.services.asof import case_as_of

        return case_as_of(ws, ref, as_of), [], None
    from cmtool.services.sla_query import clocks_of

    case, _ = load_case(ws, resolve_id(ws, ref))
    try:
        return case, clocks_of(ws, case, now), None
    except DataError as exc:
        return case, [], f"SLA clocks not shown: {str(exc).splitlines()[0]}"


SHORTEST_ID = 10  # "C-251121-Q": the filing date and a little more, still readable aloud


def short_ids(ws: Workspace, wanted: Iterable[str]) -> dict[str, str]:
    """The shortest prefix of each wanted ID that no other case in the workspace
    shares, so a table row fits one line and the prefix works with every command."""
    from cmtool.store.catalog import case_ids

    every = case_ids(ws)
    position = {case_id: i for i, case_id in enumerate(every)}
    result: dict[str, str] = {}
    for case_id in wanted:
        i = position.get(case_id)
        if i is None:
            result[case_id] = case_id
            continue
        neighbours = [every[j] for j in (i - 1, i + 1) if 0 <= j < len(every)]
        shared = max((_common_prefix(case_id, other) for other in neighbours), default=0)
        result[case_id] = case_id[: max(SHORTEST_ID, shared + 1)]
    return result


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
