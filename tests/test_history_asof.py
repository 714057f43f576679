"""`cmtool history`, `--as-of` on show and list, and `audit export`."""

from __future__ import annotations

import csv
import json

from audit_helpers import Clock, ctx, ordinary_history
from conftest import git

from cmtool.services import lifecycle
from cmtool.services.asof import cases_as_of
from cmtool.store.workspace import Workspace


def test_history_names_the_commit_of_every_event(ws, cli):
    clock = Clock()
    (case_id,) = ordinary_history(ws, 1, clock)
    result = cli("history", case_id[:10], "--json", cwd=ws)
    assert result.code == 0, result.err
    entries = json.loads(result.out)
    rel = str(next(ws.glob("cases/*/*/*.yaml")).relative_to(ws))
    commits = git(ws, "log", "--reverse", "--format=%H", "--", rel).split()
    assert [e["action"] for e in entries] == ["file", "assign", "note", "resolve", "close"]
    assert [e["commit"]["hash"] for e in entries] == commits
    assert entries[1]["commit"]["author"] == "dana" and entries[1]["commit"]["action"] == "assign"
    assert entries[3]["changes"]["status"] == ["in_progress", "resolved"]
    text = cli("history", case_id, cwd=ws).out
    assert f"commit {commits[1][:12]}  dana <dana@cmtool.invalid>" in text


def test_history_shows_hand_edits_and_removed_events(ws, cli):
    (case_id,) = ordinary_history(ws, 1, Clock())
    path = next(ws.glob("cases/*/*/*.yaml"))
    text = path.read_text()
    path.write_text(text[: text.index("- at:", text.index("action: resolve") - 60)])
    git(ws, "commit", "-q", "-am", "tidy")
    entries = json.loads(cli("history", case_id, "--json", cwd=ws).out)
    gone = [e for e in entries if e["removed_by"]]
    assert [e["action"] for e in gone] == ["resolve", "close"]
    assert gone[0]["removed_by"]["by_cmtool"] is False
    assert cli("history", "C-990101", cwd=ws).code == 3


def test_as_of_rebuilds_list_and_show_from_history(ws, cli):
    clock = Clock()
    first, second = ordinary_history(ws, 2, clock)
    # first: filed 09:07 ... closed 09:35; second: filed 09:42 ... closed 10:10
    before = cli("list", "--as-of", "2025-11-22T09:30:00+08:00", "--json", cwd=ws)
    assert before.code == 0, before.err
    assert [(r["id"], r["status"]) for r in json.loads(before.out)] == [(first, "resolved")]
    shown = json.loads(cli("show", second, "--as-of", "2025-11-22T09:50", "--json", cwd=ws).out)
    assert shown["status"] == "assigned" and len(shown["events"]) == 2
    three_back = git(ws, "rev-parse", "HEAD~3").strip()  # second case just assigned
    cases = cases_as_of(Workspace(ws), three_back)
    assert [c.state["status"] for c in cases] == ["closed", "assigned"]
    now = cli("list", "--as-of", "2025-11-23", "--json", cwd=ws)
    assert {r["status"] for r in json.loads(now.out)} == {"closed"}
    early = cli("list", "--as-of", "2020-01-01", cwd=ws)
    assert early.code == 3 and "no commit at or before" in early.err
    bad = cli("show", first, "--as-of", "last tuesday", cwd=ws)
    assert bad.code == 2 and "neither a date" in bad.err


def test_export_bundle(ws, cli, tmp_path):
    clock = Clock()
    (case_id,) = ordinary_history(ws, 1, clock)
    lifecycle.reopen(ctx(ws, "dana", clock), case_id, "customer called again")
    out = tmp_path / "bundle"
    result = cli("audit", "export", "--period", "2025-11", "-o", str(out), cwd=ws)
    assert result.code == 0, result.err
    events = list(csv.DictReader((out / "events.csv").open(encoding="utf-8")))
    assert [e["action"] for e in events] == ["file", "assign", "note", "resolve", "close", "reopen"]
    commits = json.loads((out / "commits.json").read_text())
    assert events[-1]["commit"] == commits[-1]["commit"] == git(ws, "rev-parse", "HEAD").strip()
    assert commits[-1]["action"] == "reopen" and commits[-1]["cases"] == [case_id]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["verify"]["ok"] is True and manifest["events"] == 6
    assert (out / "findings.txt").read_text() == "no findings\n"
    again = cli("audit", "export", "--period", "2025-11", "-o", str(out), cwd=ws)
    assert again.code == 2 and "not an empty folder" in again.err
    none = cli("audit", "export", "--period", "2024-02", "-o", str(tmp_path / "b2"), cwd=ws)
    assert none.code == 0 and "0 events" in none.out
