"""`cmtool survey import`: answers collected elsewhere (a CSV of case ID and scores),
all valid rows in one commit, every refused row reported with its line."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

from cmtool.errors import CmtoolError, DataError, UsageError
from cmtool.model.events import Event
from cmtool.model.problems import Problem
from cmtool.model.timefmt import format_time, parse_time
from cmtool.model.transitions import next_status
from cmtool.services.context import Context, commit_message
from cmtool.services.survey import CSAT_RANGE, NPS_RANGE, answer_changes
from cmtool.store.casefiles import resolve_id

ID_HEADERS = ("case_id", "case", "id", "case id", "case no", "案件编号", "投诉编号", "编号")
CSAT_HEADERS = ("csat", "satisfaction", "满意度")
NPS_HEADERS = ("nps", "recommend", "推荐度")
COMMENT_HEADERS = ("comment", "survey_comment", "feedback", "评价", "意见")
TIME_HEADERS = ("answered_at", "surveyed_at", "date", "time", "回访时间")


@dataclass
class ImportResult:
    recorded: list[str]
    problems: list[Problem]
    commit: str | None = None


def read_answers(path: Path) -> tuple[list[dict[str, str]], dict[str, str | None]]:
    """Rows of a CSV of answers (UTF-8 with or without BOM, or GBK) and the columns
    found: ``{"id": header, "csat": header|None, ...}``."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror}") from None
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DataError(f"{path}: neither UTF-8 nor GBK text")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    headers = {(h or "").strip().lower(): h for h in reader.fieldnames or []}

    def find(names: Sequence[str]) -> str | None:
        return next((headers[n] for n in names if n in headers), None)

    columns = {
        "id": find(ID_HEADERS),
        "csat": find(CSAT_HEADERS),
        "nps": find(NPS_HEADERS),
        "comment": find(COMMENT_HEADERS),
        "at": find(TIME_HEADERS),
    }
    if columns["id"] is None or (columns["csat"] is None and columns["nps"] is None):
        raise DataError(
            f"{path}:1: needs a case ID column (case_id) and csat and/or nps columns",
            hint="header example: case_id,csat,nps,comment,answered_at",
        )
    return list(reader), columns


def import_answers(ctx: Context, path: Path, dry_run: bool = False) -> ImportResult:
    """Record every valid row in one commit; every row it could not take is a
    Problem naming the file and line (a duplicate, an unknown case, a bad score...)."""
    rows, columns = read_answers(path)
    rel = str(path)
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    accepted: list[tuple[int, str, int | None, int | None, str | None, str]] = []
    for number, row in enumerate(rows, start=2):

        def bad(code: str, message: str, case_id: str | None = None, line: int = number) -> None:
            problems.append(Problem(code, f"row {line - 1}: {message}", rel, line, case_id))

        if None in row:
            bad("SURVEY_ROW", "has more cells than the header")
            continue
        typed = (row.get(columns["id"]) or "").strip()
        if not typed:
            bad("SURVEY_NO_ID", "no case ID")
            continue
        try:
            case_id = resolve_id(ctx.ws, typed)
        except CmtoolError as exc:
            bad("SURVEY_UNKNOWN_CASE", str(exc))
            continue
        if case_id in seen:
            bad("SURVEY_DUPLICATE", f"{case_id} already answered on line {seen[case_id]}", case_id)
            continue
        try:
            csat = _score(row, columns["csat"], CSAT_RANGE, "csat")
            nps = _score(row, columns["nps"], NPS_RANGE, "nps")
            if csat is None and nps is None:
                raise ValueError("neither csat nor nps is given")
            at = _answered_at(row, columns["at"], ctx.now)
        except ValueError as exc:
            bad("SURVEY_BAD_VALUE", str(exc), case_id)
            continue
        seen[case_id] = number
        comment = (row.get(columns["comment"]) or "").strip() if columns["comment"] else None
        accepted.append((number, case_id, csat, nps, comment or None, at))

    recorded: list[str] = []
    with ctx.transaction() as tx:
        for number, case_id, csat, nps, comment, at in accepted:
            try:
                case, text = tx.load(case_id)
                next_status("survey", case.status, case_id)
            except CmtoolError as exc:
                problems.append(Problem("SURVEY_REFUSED", f"row {number - 1}: {exc}", rel, number, case_id))
                continue
            if parse_time(at) < parse_time(case.updated_at):
                problems.append(
                    Problem(
                        "SURVEY_BAD_VALUE",
                        f"row {number - 1}: answered_at {at} "
                        f"is before the case's last event ({case.updated_at})",
                        rel,
                        number,
                        case_id,
                    )
                )
                continue
            changes = answer_changes(case, csat, nps, comment, at)
            if set(changes) <= {"surveyed_at"}:
                problems.append(
                    Problem(
                        "SURVEY_DUPLICATE",
                        f"row {number - 1}: {case_id} already has this answer",
                        rel,
                        number,
                        case_id,
                    )
                )
                continue
            event = Event(
                at,
                ctx.actor,
                "survey",
                MappingProxyType(changes),
                details=MappingProxyType({"source": path.name}),
            )
            tx.put(case.with_event(event), text)
            recorded.append(case_id)
        commit = None
        if recorded and not dry_run:
            summary = f"import {len(recorded)} survey answer(s) from {path.name}"
            commit = tx.commit(
                commit_message(summary, "survey", ctx.actor, recorded), ctx.identity, ctx.now_text
            )
        else:
            tx.pending.clear()
    problems.sort(key=lambda p: p.line or 0)
    return ImportResult(recorded, problems, commit)


def _score(row: Mapping[str, str], column: str | None, allowed: range, name: str) -> int | None:
    if column is None:
        return None
    text = (row.get(column) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} {text!r} is not a number") from None
    if value != int(value) or int(value) not in allowed:
        raise ValueError(f"{name} {text} is out of range {allowed.start}-{allowed.stop - 1}")
    return int(value)


def _answered_at(row: Mapping[str, str], column: str | None, now: datetime) -> str:
    text = (row.get(column) or "").strip() if column else ""
    if not text:
        return format_time(now)
    try:
        moment = parse_time(text) if "T" in text else parse_time(f"{text}T12:00:00{_offset(now)}")
    except ValueError as exc:
        raise ValueError(f"answered_at {text!r}: {exc}") from None
    if moment > now:
        raise ValueError(f"answered_at {text} is in the future")
    return format_time(moment)


def _offset(now: datetime) -> str:
    return format_time(now)[19:]
