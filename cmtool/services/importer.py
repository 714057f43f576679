"""`cmtool import`: a spreadsheet's rows become cases, in one commit, every row accounted for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cmtool.errors import UsageError
from cmtool.importing import dates, headers
from cmtool.importing.infer import infer
from cmtool.importing.infer import samples as infer_samples
from cmtool.importing.mapping import VALUE_FIELDS, ImportMapping, mapping_from_data, render_mapping
from cmtool.importing.report import ImportReport, write_rejects
from cmtool.importing.rows import Record, Reject, RowConverter
from cmtool.importing.source import read_table
from cmtool.importing.table import RawRow, SourceTable
from cmtool.importing.timeline import new_case, updated_case
from cmtool.importing.values import is_empty, text_of
from cmtool.model.case import Case
from cmtool.model.fields import FIELDS_BY_NAME
from cmtool.model.ids import new_id
from cmtool.model.timefmt import parse_time
from cmtool.rules.loader import load_rules
from cmtool.rules.model import Rules
from cmtool.services import import_rules
from cmtool.services.context import Context, commit_message
from cmtool.store.casefiles import read_text
from cmtool.store.catalog import all_cases
from cmtool.store.rulesedit import add_categories
from cmtool.store.yamlio import load

RULES_FILE = "rules.yaml"
Progress = Callable[[str, int, int], None]  # (stage, done, total)


@dataclass(frozen=True)
class Options:
    mapping: Path | None = None
    sheet: str | None = None
    date_order: str | None = None  # dates.DAYFIRST / dates.MONTHFIRST from the command line
    encoding: str | None = None
    dry_run: bool = False
    update: bool = False
    rejects: Path | None = None
    timezone: str | None = None  # of times written without an offset (default: the workspace calendar's)
    rules: bool = True  # put new cases through rules.yaml (classification, priority, regimes, routing)
    owner_map: Path | None = None  # YAML: the sheet's owner names -> people


@dataclass(frozen=True)
class Prepared:
    table: SourceTable
    header_index: int
    columns: list[headers.Column]
    converter: RowConverter
    decisions: list[str]
    header: tuple[Any, ...]  # the header's cells (two rows joined when it spans two)

    @property
    def data_rows(self):
        return [row for row in self.table.rows[self.header_index + 1 :] if not row.is_blank]


def prepare(
    path: Path,
    options: Options,
    now: datetime,
    zone: tzinfo | None = None,
    owners: Mapping[str, str] | None = None,
) -> Prepared:
    """Read the file and decide the header row, the columns and the date orders."""
    mapping = _read_mapping(options.mapping).with_order(options.date_order)
    table = read_table(path, options.sheet, options.encoding)
    if not table.rows:
        raise UsageError(f"{path.name} has no rows")
    cells = [row.cells for row in table.rows]
    if mapping.header_row is not None:
        if mapping.header_row > len(cells):
            raise UsageError(f"header_row {mapping.header_row}: the file has {len(cells)} rows")
        header_index = mapping.header_row - 1
    else:
        header_index = headers.find_header_row(cells, set(mapping.columns))
    header_cells = cells[header_index]
    if table.rows[header_index].broken_code == "BAD_ENCODING" and table.rows[header_index].broken:
        raise UsageError(
            f"{path.name}: the header (row {header_index + 1}) is not in the file's encoding "
            f"({table.notes[0].removeprefix('encoding ')}): the file mixes text encodings",
            hint="convert the file to one encoding, or name the header's encoding with --encoding",
        )
    table, layout = _layout(table, header_index)
    if layout and layout[0].startswith("header spans"):
        header_cells = headers.two_row_header(cells[header_index], cells[header_index + 1]) or header_cells
    body = [row.cells for row in table.rows[header_index + 1 :] if not row.is_blank]
    inferred = infer(headers.plan_columns(header_cells, dict(mapping.columns)), body)
    columns = inferred.columns
    orders, decisions = _date_orders(columns, body, mapping.date_order)
    width = len(header_cells)
    table, short_note = _last_row_short(table, header_index, width)
    converter = RowConverter(
        columns,
        mapping,
        orders,
        zone or now.tzinfo,
        now,
        width,
        table.sheet is None,
        inferred.title_from,
        inferred.titles_built,
        owners,
    )
    decisions = [
        *table.notes,
        f"header on row {header_index + 1}",
        *layout,
        *inferred.decisions,
        *decisions,
        *short_note,
    ]
    return Prepared(table, header_index, columns, converter, decisions, header_cells)


def _layout(table: SourceTable, header_index: int) -> tuple[SourceTable, list[str]]:
    """Rows that are neither header nor data: the lower half of a two-row header
    (dropped: its cells join the header) and totals rows under the data."""
    rows = list(table.rows)
    notes = []
    if header_index + 1 < len(rows):
        below = rows[header_index + 1]
        if headers.two_row_header(rows[header_index].cells, below.cells) is not None:
            notes.append(f"header spans rows {header_index + 1}-{below.number} (merged group cells above)")
            rows[header_index + 1] = RawRow(below.number, ())
    for position in range(len(rows) - 1, header_index, -1):
        row = rows[position]
        if row.is_blank:
            continue
        if not headers.is_totals_row(row.cells):
            break
        notes.append(f"row {row.number} is a totals row, not a complaint: skipped")
        rows[position] = RawRow(row.number, ())
    return (replace(table, rows=tuple(rows)) if notes else table), notes


def _last_row_short(table: SourceTable, header_index: int, width: int) -> tuple[SourceTable, list[str]]:
    """A CSV's last record that lacks only its trailing empty cells (some writers
    drop them) is taken whole when the file ends cleanly after it; a file that
    stops in the middle of its last record is cut short, and that row is refused."""
    rows = list(table.rows)
    last = next((i for i in range(len(rows) - 1, header_index, -1) if not rows[i].is_blank), None)
    if table.sheet is not None or last is None or rows[last].broken or len(rows[last].cells) >= width:
        return table, []
    row = rows[last]
    have = len(row.cells)
    if not table.ends_cleanly:
        rows[last] = RawRow(
            row.number,
            row.cells,
            f"truncated record: the file ends inside row {row.number} ({have} of {width} cells, "
            "no line break after it)",
        )
        return replace(table, rows=tuple(rows)), []
    rows[last] = RawRow(row.number, row.cells + ("",) * (width - have))
    note = (
        f"row {row.number} (the last) has {have} of {width} cells and the file ends cleanly after it: "
        "the missing trailing cells are read as empty"
    )
    return replace(table, rows=tuple(rows)), [note]


def check_required(prepared: Prepared) -> None:
    """The received date and a title (or a description to take one from) need a column."""
    table, columns, header_index = prepared.table, prepared.columns, prepared.header_index
    targets = {c.target for c in columns}
    if "filed_at" not in targets:
        raise UsageError(
            f"{table.name}: no column holds the date received "
            f"(headers on row {header_index + 1}: {_headers(columns)})",
            hint="name it in a mapping file, e.g. columns: {Opened: filed_at}; start one with --show-mapping",
        )
    if not targets & {"title", "description"} and not prepared.converter.title_from:
        raise UsageError(
            f"{table.name}: no column holds a title or description "
            f"(headers on row {header_index + 1}: {_headers(columns)})",
            hint="name one in a mapping file; start one with --show-mapping",
        )


def show_mapping(path: Path, options: Options, now: datetime) -> str:
    prepared = prepare(path, options, now)
    mapping = prepared.converter.mapping
    found: dict[str, dict[str, str | None]] = {}
    for column in prepared.columns:
        if column.target in VALUE_FIELDS:
            words = found.setdefault(column.target, {})
            for row in prepared.data_rows:
                value = row.cells[column.index] if column.index < len(row.cells) else None
                if not is_empty(value) and len(words) < 100:
                    words.setdefault(text_of(value), mapping.lookup(column.target, text_of(value)))
    notes = [d for d in prepared.decisions if d.startswith("dates")]
    try:
        check_required(prepared)
    except UsageError as missing:
        notes.append(f"TO DO: {str(missing).split(': ', 1)[1]}")
    return render_mapping(
        prepared.table.name, prepared.header_index + 1, prepared.columns, found, notes, mapping.date_order
    )


def import_file(ctx: Context, path: Path, options: Options, progress: Progress | None = None) -> ImportReport:
    """Import ``path``; with ``dry_run`` decide everything and write nothing."""
    rules = load_rules(ctx.ws.rules_path) if ctx.ws.rules_path.exists() else Rules()
    owners = import_rules.owner_names(rules, options.owner_map)
    prepared = prepare(path, options, ctx.now, _zone(options.timezone, rules, ctx.now), owners)
    check_required(prepared)
    table = prepared.table
    report = ImportReport(
        table.name,
        table.sha256,
        table.sheet,
        prepared.header_index + 1,
        decisions=prepared.decisions,
        dry_run=options.dry_run,
        columns=_evidence(prepared),
    )
    records = _convert(prepared, report, progress)
    report.note_owners(records, owners is not None)
    category_field = _category_field(prepared.columns) if options.rules else None
    categories = import_rules.plan_categories(records, rules, category_field)
    report.categories = categories.lines()
    step = None
    if options.rules and (rules.categories or rules.teams or rules.priority_rules or rules.regimes):
        rules = import_rules.with_categories(rules, categories.new)
        step = import_rules.RulesStep(ctx.ws, rules, ctx.actor)
    if options.dry_run:
        new, _ = _plan(
            ctx, prepared, records, _existing(all_cases(ctx.ws)), options.update, report, step, progress
        )
        report.new_categories = _used(categories.new, new)
    else:
        with ctx.transaction() as tx:
            cases = all_cases(ctx.ws)
            new, updates = _plan(
                ctx, prepared, records, _existing(cases), options.update, report, step, progress
            )
            report.new_categories = _used(categories.new, new)
            if report.new_categories:
                text = read_text(ctx.ws.rules_path) if ctx.ws.rules_path.exists() else ""
                tx.put_file(RULES_FILE, add_categories(text, report.new_categories))
            for case in new:
                tx.put(case, None)
            for case in updates:
                tx.load(case.id)  # refuses a case with uncommitted hand edits
                tx.put(case, read_text(ctx.ws.case_path(case.id)))
            if new or updates:
                if progress:
                    progress("writing", 0, len(new) + len(updates))
                report.commit = tx.commit(_message(ctx, report), ctx.identity, ctx.now_text)
    if options.rejects is not None:
        cells = {row.number: row.cells for row in table.rows}
        write_rejects(options.rejects, prepared.header, report.duplicates + report.rejected, cells)
    return report


def _zone(name: str | None, rules: Rules, now: datetime) -> tzinfo:
    """Where times written without an offset were written: ``--timezone``, else
    the zone of the workspace's default calendar, else the offset of now."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise UsageError(
                f"--timezone {name!r} is not a time zone", hint="use an IANA name, e.g. Asia/Shanghai"
            ) from None
    specs = rules.calendars.specs
    default = (rules.raw.get("sla") or {}).get("calendar") if isinstance(rules.raw, Mapping) else None
    calendar = specs.get(default) if default in specs else next(iter(specs.values()), None)
    return ZoneInfo(calendar.timezone) if calendar is not None else now.tzinfo or UTC


def _category_field(columns: list[headers.Column]) -> str | None:
    """The column that says what a complaint is about: a category, else a product."""
    targets = {c.target for c in columns}
    return next((name for name in ("category", "product") if name in targets), None)


def _used(new: dict[str, str], cases: list[Case]) -> dict[str, str]:
    """The new taxonomy entries some new case carries."""
    carried = {case.get("category") for case in cases}
    return {key: label for key, label in new.items() if key in carried}


def _evidence(prepared: Prepared) -> list[dict[str, Any]]:
    body = [row.cells for row in prepared.data_rows]
    return [
        {
            "column": column.header,
            "target": column.target,
            "how": column.how,
            "why": column.why,
            "samples": list(infer_samples(body, column.index)),
        }
        for column in prepared.columns
    ]


def _convert(prepared: Prepared, report: ImportReport, progress: Progress | None) -> list[Record]:
    rows = prepared.table.rows[prepared.header_index + 1 :]
    report.blank_rows = sum(1 for row in rows if row.is_blank)
    data = [row for row in rows if not row.is_blank]
    report.data_rows = len(data)
    records: list[Record] = []
    by_hash: dict[str, int] = {}
    by_id: dict[str, int] = {}
    for done, row in enumerate(data, start=1):
        result = prepared.converter.convert(row)
        if isinstance(result, Reject):
            report.rejected.append(result)
        elif result.row_hash in by_hash:
            report.duplicates.append(
                Reject(row.number, "DUPLICATE", f"same content as row {by_hash[result.row_hash]}")
            )
        elif result.source_id and result.source_id in by_id:
            report.rejected.append(
                Reject(
                    row.number,
                    "DUPLICATE_ID",
                    f"complaint ID "
                    f"{result.source_id} is also on row {by_id[result.source_id]} "
                    "with different content",
                )
            )
        else:
            by_hash[result.row_hash] = row.number
            if result.source_id:
                by_id[result.source_id] = row.number
            records.append(result)
        if progress and done % 2000 == 0:
            progress("reading rows", done, len(data))
    return records


def _existing(cases: list[Case]) -> dict[tuple[str, str], Case]:
    """Cases by the keys an import finds them by: the source's ID, the row hash, our ID."""
    found: dict[tuple[str, str], Case] = {}
    for case in cases:
        found[("id", case.id)] = case
        source = case.get("source") or {}
        if source.get("id"):
            found[("id", str(source["id"]))] = case
        if source.get("row_hash"):
            found[("hash", str(source["row_hash"]))] = case
    return found


def _plan(
    ctx: Context,
    prepared: Prepared,
    records: list[Record],
    existing: dict[tuple[str, str], Case],
    update: bool,
    report: ImportReport,
    step: import_rules.RulesStep | None,
    progress: Progress | None,
) -> tuple[list[Case], list[Case]]:
    """The new cases and the updated ones; fills the report's counts."""
    table = prepared.table
    taken_ids = {key[1] for key in existing if key[0] == "id"}
    new: list[Case] = []
    updates: list[Case] = []
    for done, record in enumerate(records, start=1):
        source = _source(table, record)
        key = ("id", record.source_id) if record.source_id else ("hash", record.row_hash)
        match = existing.get(key) or existing.get(("hash", record.row_hash))
        if match is not None:
            unchanged = (match.get("source") or {}).get("row_hash") == record.row_hash
            if not update or unchanged:
                report.unchanged += 1
                continue
            try:
                changed = updated_case(match, record, ctx.actor, ctx.now, source)
            except ValueError as exc:
                report.rejected.append(Reject(record.row, "BAD_UPDATE", str(exc)))
                continue
            if changed is None:
                report.unchanged += 1
            else:
                updates.append(changed)
                report.updated.append(changed.id)
            continue
        filed = parse_time(record.state["filed_at"])
        case_id = new_id(filed)
        while case_id in taken_ids:
            case_id = new_id(filed)
        taken_ids.add(case_id)
        case = new_case(record, case_id, ctx.actor, source, step.apply if step else None)
        new.append(case)
        report.imported.append(case.id)
        if progress and done % 2000 == 0:
            progress("building cases", done, len(records))
    return new, updates


def _source(table: SourceTable, record: Record) -> dict[str, Any]:
    source: dict[str, Any] = {"file": table.name, "sha256": table.sha256}
    if table.sheet is not None:
        source["sheet"] = table.sheet
    source["row"] = record.row
    if record.source_id:
        source["id"] = record.source_id
    source["row_hash"] = record.row_hash
    if record.raw_status:
        source["status"] = record.raw_status
    if record.origin:
        source["origin"] = dict(record.origin)
    return source


def _message(ctx: Context, report: ImportReport) -> str:
    summary = (
        f"import {report.file}: {len(report.imported)} new, {len(report.updated)} updated, "
        f"{report.already_present} already present"
    )
    source = {"Cmtool-Source": f"{report.file} sha256:{report.sha256}"}
    return commit_message(summary, "import", ctx.actor, report.imported + report.updated, source)


def _read_mapping(path: Path | None) -> ImportMapping:
    if path is None:
        return ImportMapping()
    if not path.is_file():
        raise UsageError(f"--mapping {path}: no such file")
    return mapping_from_data(load(read_text(path), str(path)), str(path))


def _date_orders(
    columns: list[headers.Column], body: list[tuple[Any, ...]], forced: str | None
) -> tuple[dict[int, str | None], list[str]]:
    """Day/month order per date column: forced, proven by the column, or by the others."""
    date_columns = [
        c
        for c in columns
        if FIELDS_BY_NAME.get(c.target) is not None and FIELDS_BY_NAME[c.target].kind == "time"
    ]
    if forced:
        shape = "day/month" if forced == dates.DAYFIRST else "month/day"
        return {c.index: forced for c in date_columns}, [f"dates: read {shape} (as told)"]
    values = {c.index: [row[c.index] for row in body if c.index < len(row)] for c in date_columns}
    decided = {c.index: dates.decide_order(values[c.index]) for c in date_columns}
    proven = {d.order for d in decided.values() if d and "can only be" in d.reason}
    hint = proven.pop() if len(proven) == 1 else None
    orders: dict[int, str | None] = {}
    notes = []
    for column in date_columns:
        decision = decided[column.index]
        if decision and hint and "can only be" not in decision.reason:
            decision = dates.decide_order(values[column.index], hint)
        orders[column.index] = decision.order if decision else None
        if decision:
            shape = "day/month" if decision.order == dates.DAYFIRST else "month/day"
            notes.append(
                f"dates: column {column.header!r} read {shape}: {decision.reason} "
                "(override with --dayfirst or --monthfirst)"
            )
    return orders, notes


def _headers(columns: list[headers.Column]) -> str:
    shown = ", ".join(c.header for c in columns[:12])
    return shown + (", ..." if len(columns) > 12 else "")
