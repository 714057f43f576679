"""`cmtool audit export`: the bundle an auditor takes away.

    events.csv / events.json    every event dated in the period, with the commit that wrote it
    commits.csv / commits.json  every commit made in the period, with its trailers
    findings.json / findings.txt  everything `audit verify` finds over the WHOLE history
    attachments/<sha256>        evidence attached in the period (named by its hash)
    manifest.json               period, HEAD, verify verdict, sha256 of each file above

Events and commits come from the same single pass that verification makes, so
the log and the verdict describe the same history.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from cmtool import __version__
from cmtool.audit.trailers import parse_trailers
from cmtool.errors import UsageError
from cmtool.model.timefmt import format_time, parse_time
from cmtool.reports.periods import parse_period
from cmtool.services.audit import verify
from cmtool.store import attachments
from cmtool.store.cellsafe import csv_writer
from cmtool.store.workspace import Workspace

EVENT_COLUMNS = (
    "case_id",
    "index",
    "at",
    "actor",
    "action",
    "changes",
    "note",
    "commit",
    "commit_author",
    "commit_date",
    "by_cmtool",
)
COMMIT_COLUMNS = (
    "commit",
    "parents",
    "author",
    "email",
    "author_date",
    "committer_date",
    "summary",
    "action",
    "actor",
    "cases",
    "by_cmtool",
)


def export_bundle(ws: Workspace, period_text: str, output: Path, now: datetime) -> dict[str, Any]:
    period = parse_period(period_text, now.tzinfo)  # type: ignore[arg-type]
    target = output.expanduser().resolve()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(
            f"{target} exists and is not an empty folder", hint="name a new folder for the bundle"
        )
    report = verify(ws, collect_events=True)

    def within(text: str) -> bool:
        try:
            return period.contains(parse_time(text))
        except (TypeError, ValueError):
            return False

    events = [
        {
            "case_id": item.case_id,
            "index": item.index,
            "at": item.event.at,
            "actor": item.event.actor,
            "action": item.event.action,
            "changes": {k: list(v) for k, v in item.event.changes.items()},
            "note": item.event.note,
            "commit": item.commit.sha,
            "commit_author": item.commit.author_name,
            "commit_date": item.commit.committer_date,
            "by_cmtool": parse_trailers(item.commit.message).present,
        }
        for item in report.appended
        if within(item.event.at)
    ]
    events.sort(key=lambda row: (parse_time(row["at"]), row["case_id"], row["index"]))
    commits = []
    for commit in report.commits:
        if not within(commit.committer_date):
            continue
        trailers = parse_trailers(commit.message)
        commits.append(
            {
                "commit": commit.sha,
                "parents": list(commit.parents),
                "author": commit.author_name,
                "email": commit.author_email,
                "author_date": commit.author_date,
                "committer_date": commit.committer_date,
                "summary": commit.summary,
                "action": trailers.action,
                "actor": trailers.actor,
                "cases": list(trailers.cases),
                "by_cmtool": trailers.present,
            }
        )
    findings = [finding.to_dict() for finding in report.findings]
    files = {
        "events.json": _json(events),
        "events.csv": _csv(events, EVENT_COLUMNS),
        "commits.json": _json(commits),
        "commits.csv": _csv(commits, COMMIT_COLUMNS),
        "findings.json": _json(findings),
        "findings.txt": "".join(f"{finding}\n" for finding in report.findings) or "no findings\n",
    }
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(text, encoding="utf-8", newline="")
    manifest = {
        "period": period.to_dict(),
        "workspace": str(ws.root),
        "head": report.head,
        "generated_at": format_time(now),
        "cmtool_version": __version__,
        "verify": report.summary(),
        "events": len(events),
        "commits": len(commits),
        "findings": len(findings),
        "sha256": {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in files.items()},
    }
    manifest["attachments"] = _copy_attachments(ws, report, within, target)
    (target / "manifest.json").write_text(_json(manifest), encoding="utf-8")
    return manifest


def _copy_attachments(ws: Workspace, report: Any, within: Any, target: Path) -> dict[str, str]:
    """Evidence attached in the period, copied as ``attachments/<sha256>`` (names
    are hashes: a customer's file name never becomes a path); path -> sha256."""
    copied: dict[str, str] = {}
    for item in report.appended:
        if item.event.action != "attach" or not within(item.event.at):
            continue
        for record in item.event.details.get("files") or ():
            # A sealed file goes as stored (still sealed), named by its ciphertext's hash.
            sha = (
                str(record.get("stored_sha256") or record.get("sha256", ""))
                if isinstance(record, dict)
                else ""
            )
            try:
                attachments.copy_out(ws, sha, target / "attachments" / sha)
            except (ValueError, OSError):
                continue  # not a stored attachment: audit verify reports it (in findings.txt)
            copied[f"attachments/{sha}"] = sha
    return copied


def _json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    buffer = io.StringIO()
    writer = csv_writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in columns])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)
