"""Re-importing: no duplicates, keyed by source ID or content hash; --update as events."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from conftest import git


def cases(root: Path) -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in sorted((root / "cases").rglob("C-*.yaml"))]


def imported(cli, ws: Path, file: Path, *args: str) -> dict:
    result = cli("import", str(file), "-w", str(ws), "--json", *args)
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_same_file_twice_creates_nothing_new(cli, ws, tmp_path):
    file = tmp_path / "with_ids.csv"
    file.write_text(
        "Complaint ID,Date received,Issue,Status\nA1,2024-01-02,Kettle,open\nA2,2024-01-03,Parcel,closed\n"
    )
    assert imported(cli, ws, file)["imported"] == 2
    head = git(ws, "rev-parse", "HEAD")
    again = imported(cli, ws, file)
    assert (again["imported"], again["already_present"], again["commit"]) == (0, 2, None)
    assert git(ws, "rev-parse", "HEAD") == head and len(cases(ws)) == 2
    # Without a complaint ID the content hash keys a row, whatever file holds it.
    plain = tmp_path / "no_ids.csv"
    plain.write_text("Date received,Issue\n2024-01-04,Toaster\n")
    assert imported(cli, ws, plain)["imported"] == 1
    copy = tmp_path / "copy.csv"
    copy.write_text("Issue,Date received\nToaster,2024-01-04\nBlender,2024-01-05\n")
    report = imported(cli, ws, copy)
    assert (report["imported"], report["already_present"]) == (1, 1)


def test_update_applies_changed_rows_as_events(cli, ws, tmp_path):
    file = tmp_path / "v1.csv"
    file.write_text(
        "Complaint ID,Date received,Issue,Status,Priority,Handler\n"
        "A1,2024-01-02,Kettle,in progress,normal,alice\n"
        "A2,2024-01-03,Parcel,new,low,\n"
    )
    imported(cli, ws, file)
    newer = tmp_path / "v2.csv"
    newer.write_text(
        "Complaint ID,Date received,Issue,Status,Priority,Handler,Date closed\n"
        "A1,2024-01-02,Kettle,closed,high,alice,2024-02-01\n"
        "A2,2024-01-03,Parcel,new,low,,\n"
    )
    without = imported(cli, ws, newer)
    assert (without["imported"], without["updated"], without["unchanged"]) == (0, 0, 2)
    report = imported(cli, ws, newer, "--update")
    assert (report["updated"], report["unchanged"]) == (1, 1)
    (kettle,) = [c for c in cases(ws) if c["source"]["id"] == "A1"]
    actions = [e["action"] for e in kettle["events"]]
    assert actions == ["file", "assign", "note", "resolve", "close", "edit"]
    assert kettle["status"] == "closed" and kettle["closed_at"] == "2024-02-01T00:00:00+08:00"
    edit = kettle["events"][-1]
    assert edit["changes"]["priority"] == ["normal", "high"]
    assert edit["changes"]["source"][1]["file"] == "v2.csv"
    assert cli("validate", "-w", str(ws)).code == 0
    log = git(ws, "log", "-1", "--format=%B")
    assert "1 updated" in log and f"Cmtool-Case: {kettle['id']}" in log
    assert imported(cli, ws, newer, "--update")["updated"] == 0  # idempotent


def test_update_refuses_an_impossible_status_move(cli, ws, tmp_path):
    file = tmp_path / "v1.csv"
    file.write_text("id,date,title,status\nB1,2024-01-02,Kettle,closed\n")
    imported(cli, ws, file)
    file.write_text("id,date,title,status\nB1,2024-01-02,Kettle,new\n")
    result = cli("import", str(file), "-w", str(ws), "--update", "--json")
    assert result.code == 1
    (reject,) = json.loads(result.out)["rejects"]
    assert reject["code"] == "BAD_UPDATE" and "cannot become new" in reject["reason"]
