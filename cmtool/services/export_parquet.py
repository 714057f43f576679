"""`cmtool export --format parquet`: a table of cases and one of events, for the
engine an organisation already runs (DuckDB, Spark, a warehouse).

Both files name the data commit they hold (in their name and their key-value
metadata), so a warehouse can append exports and keep, per case, the rows of the
highest ``data_generation``. ``since`` writes only the cases whose files changed
after an earlier commit (plus a tombstone row per deleted case file): rows are
streamed from the index in batches, so memory stays flat at any size.

Personal fields (rules.yaml ``privacy.personal``) are written as ``[masked]``
unless ``show_pii`` opens those the actor's role may read; notes made by a rule
are not personal.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from cmtool.errors import Busy, UsageError
from cmtool.exporting.parquet import CASE_COLUMNS, EVENT_COLUMNS, TableWriter, empty_batch, read_metadata
from cmtool.model.case import Case
from cmtool.model.enums import Status, values
from cmtool.model.fields import FIELDS
from cmtool.model.timefmt import format_time, parse_time
from cmtool.reports.facts import CaseFacts, case_facts
from cmtool.rules.loader import load_rules
from cmtool.rules.model import Rules
from cmtool.rules.privacy import privacy_policy
from cmtool.services.context import Context
from cmtool.services.need_to_know import MASKED, masked_case
from cmtool.services.personal_export import holds_personal, record_export
from cmtool.services.privacy import policy_of
from cmtool.services.query import CaseFilter
from cmtool.services.sla_sweep import deriver, facts_key
from cmtool.sla.facts import Stored, clocks_at
from cmtool.store import fastjson, index, slafacts
from cmtool.store.datacommit import DataCommit, changes_since, data_commit, resolve_commit
from cmtool.store.workspace import Workspace

BATCH = 5000  # cases per row group
SCHEMA_VERSION = "1"
STATE = tuple((f.name, f.kind) for f in FIELDS)
# One encoder for every value: json.dumps with options builds a new one per call.
_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


@dataclass(frozen=True)
class ParquetExport:
    cases: int  # rows of present cases
    removed: int  # tombstone rows
    events: int
    commit: DataCommit
    since: str | None
    files: tuple[Path, Path]  # cases, events
    opened: frozenset[str]  # personal fields written in clear
    masked: frozenset[str]  # personal fields written as [masked]


def since_commit(ws: Workspace, since: str) -> str:
    """``since``: a commit, or a parquet file an earlier export wrote (its data commit)."""
    if since.endswith(".parquet") and Path(since).is_file():
        meta = read_metadata(Path(since))
        if "cmtool.data_commit" not in meta:
            raise UsageError(f"{since}: not a cmtool export (no cmtool.data_commit in its metadata)")
        since = meta["cmtool.data_commit"]
    return resolve_commit(ws, since)


def export_parquet(
    ctx: Context, folder: Path, case_filter: CaseFilter, since: str | None = None, show_pii: bool = False
) -> ParquetExport:
    """Write the tables into ``folder``. ``show_pii`` opens the personal fields the
    actor's role may read; each case whose personal data goes out then records a
    ``privacy_export`` event first, all in one commit, and the export holds that commit."""
    ws = ctx.ws
    if folder.suffix.lower() == ".parquet" or (folder.exists() and not folder.is_dir()):
        raise UsageError(f"-o {folder}: parquet writes two files (cases and events): give a folder")
    if since is not None and case_filter.wanted:
        raise UsageError(
            "--since exports every changed case, so it takes no filter",
            hint="filter in the engine you load the files into",
        )
    commit = data_commit(ws)
    base = since_commit(ws, since) if since is not None else None
    rules = load_rules(ws.rules_path)
    personal = privacy_policy(rules.raw).personal
    shown = opened_fields(ws, ctx.actor) if show_pii else frozenset()
    hidden = frozenset(personal - shown)
    if shown:
        changed = changes_since(ws, base, commit.sha).changed if base is not None else None
        details = {"purpose": "export", "format": "parquet", "fields": sorted(shown)}
        record_export(ctx, _disclosing(ws, changed, case_filter, shown), details)
        commit = data_commit(ws)
    conn, _ = index.refresh(ws)
    index.raise_broken(conn)
    key = facts_key(ws)
    slafacts.refresh(conn, key, values(Status), deriver(rules))
    changes = changes_since(ws, base, commit.sha) if base is not None else None
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{commit.generation:09d}-{commit.sha[:12]}" + (f"-since-{base[:12]}" if base else "")
    meta = {
        "cmtool.schema": SCHEMA_VERSION,
        "cmtool.data_commit": commit.sha,
        "cmtool.data_generation": str(commit.generation),
        "cmtool.since": base or "",
        "cmtool.exported_at": format_time(ctx.now),
        "cmtool.masked": ",".join(sorted(hidden)),
    }
    targets = (folder / f"cases-{stem}.parquet", folder / f"events-{stem}.parquet")
    cases = TableWriter(targets[0], CASE_COLUMNS, {**meta, "cmtool.table": "cases"})
    events = TableWriter(targets[1], EVENT_COLUMNS, {**meta, "cmtool.table": "events"})
    # One read transaction: the rows streamed are those of one state of the index,
    # and that state must be the data commit (a command run meanwhile moves HEAD).
    conn.execute("BEGIN")
    try:
        if index.indexed_commit(conn) != commit.sha:
            raise Busy("the workspace changed while the export started", hint="run the export again")
        rows = slafacts.with_facts(conn, key, changes.changed if changes else None)
        _write(rows, rules, ctx.now, hidden, commit, case_filter, cases, events)
        if changes and changes.removed:
            cases.write(_tombstones(changes.removed, commit))
        cases.close()
        events.close()
    except BaseException:
        cases.abort()
        events.abort()
        raise
    finally:
        conn.execute("COMMIT")
    removed = len(changes.removed) if changes else 0
    return ParquetExport(cases.rows - removed, removed, events.rows, commit, base, targets, shown, hidden)


def _disclosing(
    ws: Workspace, paths: Collection[str] | None, case_filter: CaseFilter, shown: frozenset[str]
) -> list[str]:
    """IDs of the cases to export that hold a value of ``shown`` in clear."""
    conn, _ = index.refresh(ws)
    index.raise_broken(conn)
    found = []
    for data, _detail, _moving in slafacts.with_facts(conn, "", paths):
        case = fastjson.case_of(data)
        if case_filter.matches(case.state) and holds_personal(case, shown):
            found.append(case.id)
    return found


def _write(
    rows: Iterable[tuple[str, str | None, bool]],
    rules: Rules,
    now: datetime,
    hidden: frozenset[str],
    commit: DataCommit,
    case_filter: CaseFilter,
    cases: TableWriter,
    events: TableWriter,
) -> None:
    case_batch, event_batch = empty_batch(CASE_COLUMNS), empty_batch(EVENT_COLUMNS)
    count = 0
    for data, detail, moving in rows:
        plain = fastjson.case_of(data)
        if case_filter.wanted and not case_filter.matches(plain.state):
            continue
        if detail is None or moving:
            clocks = [c._asdict() for c in clocks_at(plain, rules, now)]
        else:
            clocks = [c._asdict() for c in Stored.read(fastjson.loads(detail)).clocks]
        # Facts from the case as it is; what is written, masked.
        case = masked_case(plain, hidden)
        _add(case_batch, _case_row(case, case_facts(plain), clocks, moving, rules, commit))
        _add_events(event_batch, case, commit)
        count += 1
        if count % BATCH == 0:
            cases.write(case_batch)
            events.write(event_batch)
            case_batch, event_batch = empty_batch(CASE_COLUMNS), empty_batch(EVENT_COLUMNS)
    cases.write(case_batch)
    events.write(event_batch)


def _add(batch: dict[str, list[Any]], row: dict[str, Any]) -> None:
    for name, column in batch.items():
        column.append(row.get(name))


def _case_row(
    case: Case, facts: CaseFacts, clocks: list[dict], moving: bool, rules: Rules, commit: DataCommit
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "data_commit": commit.sha,
        "data_generation": commit.generation,
        "id": case.id,
        "removed": False,
    }
    state = case.state
    for name, kind in STATE:
        value = state.get(name)
        if value is None:
            continue
        if kind == "time":
            _time(row, name, value)
        elif kind == "number":
            row[name] = Decimal(str(value)).quantize(Decimal("0.0001"))
        elif kind == "map":
            row[name] = _json(value)
        elif kind == "list":
            row[name] = [str(v) for v in value]
        else:
            row[name] = value
    if state.get("redress") is not None and state.get("redress_currency") != MASKED:
        row["redress_currency"] = state.get("redress_currency") or rules.currency_for(state)
    row["responded_at"] = facts.first_response
    row["first_closed_at"] = facts.closures[0] if facts.closures else None
    row["reopened"] = len(facts.reopens)
    row["escalations"] = len(facts.escalations)
    row["event_count"] = len(case.events)
    if case.events:
        _time(row, "last_event_at", case.events[-1].at)
    row["clocks"] = [
        {
            "clock": c["clock"],
            "due_at": parse_time(c["due_at"]) if c["due_at"] else None,
            "warn_at": parse_time(c["warn_at"]) if c["warn_at"] else None,
            "stopped": c["stopped"],
            "advisory": c["advisory"],
        }
        for c in clocks
    ]
    row["clocks_paused"] = moving
    return row


def _time(row: dict[str, Any], name: str, text: Any) -> None:
    moment = parse_time(text)
    offset = moment.utcoffset()
    row[name] = moment
    row[f"{name}_offset"] = int(offset.total_seconds() // 60) if offset is not None else None


def _add_events(batch: dict[str, list[Any]], case: Case, commit: DataCommit) -> None:
    """Append the case's events to ``batch``, column by column (the hot loop of an export)."""
    columns = {name: batch[name].append for name in batch}
    for seq, event in enumerate(case.events, 1):
        moment = parse_time(event.at)
        offset = moment.utcoffset()
        columns["data_commit"](commit.sha)
        columns["data_generation"](commit.generation)
        columns["case_id"](case.id)
        columns["seq"](seq)
        columns["event_at"](moment)
        columns["event_at_offset"](int(offset.total_seconds() // 60) if offset is not None else None)
        columns["actor"](event.actor)
        columns["action"](event.action)
        columns["changes"](
            [
                {"field": name, "old": _change(old), "new": _change(new)}
                for name, (old, new) in event.changes.items()
            ]
        )
        columns["note"](event.note)
        columns["rule"](event.rule)
        columns["details"](_json(dict(event.details)) if event.details else None)


def _change(value: Any) -> str | None:
    return None if value is None else _json(value)


def _tombstones(paths: list[str], commit: DataCommit) -> dict[str, list[Any]]:
    batch = empty_batch(CASE_COLUMNS)
    for path in paths:
        tombstone = {"data_commit": commit.sha, "data_generation": commit.generation, "removed": True}
        _add(batch, {**tombstone, "id": Path(path).stem})
    return batch


def opened_fields(ws: Workspace, actor: str) -> frozenset[str]:
    """The personal fields ``actor``'s role may read in clear (``privacy.need_to_know``)."""
    from cmtool.services.need_to_know import hidden_for

    return frozenset(policy_of(ws).personal - hidden_for(ws, actor))
