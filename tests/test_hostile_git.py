"""Forged history: `git replace` and grafts are ignored by every read and reported by verify."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from pathlib import Path

from audit_helpers import Clock, codes, ctx, verify_json
from conftest import git

from cmtool.services import lifecycle

ORIGINAL = "Customer wants a refund of 300"
FORGED = "Customer withdrew the complaint"


def _object(ws: Path, kind: str, text: str) -> str:
    done = subprocess.run(
        ["git", "hash-object", "-t", kind, "-w", "--stdin"],
        cwd=ws,
        input=text,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _forge_commit(ws: Path, commit: str, path: str, parent: str | None = None) -> str:
    """A copy of ``commit`` whose case file says FORGED where it said ORIGINAL."""
    text = git(ws, "show", f"{commit}:{path}")
    assert ORIGINAL in text
    blob = _object(ws, "blob", text.replace(ORIGINAL, FORGED))
    env_index = ws / ".git" / "forge-index"
    env = dict(os.environ, GIT_INDEX_FILE=str(env_index))
    run = {"cwd": ws, "check": True, "capture_output": True, "text": True, "env": env}
    subprocess.run(["git", "read-tree", commit], **run)
    subprocess.run(["git", "update-index", "--cacheinfo", f"100644,{blob},{path}"], **run)
    tree = subprocess.run(["git", "write-tree"], **run).stdout.strip()
    env_index.unlink()
    raw = git(ws, "cat-file", "commit", commit)
    lines = raw.split("\n")
    lines[0] = f"tree {tree}"
    if parent:
        lines[1] = f"parent {parent}"
    return _object(ws, "commit", "\n".join(lines))


def _sealed_history_with_a_forgery(ws: Path, cli) -> tuple[str, str]:
    """File, assign and note a case; seal; resolve. Then forge the note in the sealed
    commit, in its child and in the seal's tag object, all by ``git replace``."""
    clock = Clock()
    case = lifecycle.file_case(ctx(ws, "alice", clock), {"title": "Charger overheats", "channel": "phone"})
    lifecycle.assign(ctx(ws, "dana", clock), case.id, "bob")
    lifecycle.note(ctx(ws, "bob", clock), case.id, ORIGINAL)
    sealed = cli("audit", "seal", "--json", cwd=ws)
    assert sealed.code == 0, sealed.err
    tag_object = json.loads(sealed.out)["tag_object"]
    lifecycle.resolve(ctx(ws, "bob", clock), case.id, "Replaced the charger", redress=20)
    path = str(next(ws.glob("cases/*/*/*.yaml")).relative_to(ws))
    note_commit, child = git(ws, "rev-parse", "HEAD~1", "HEAD").split()
    forged_note = _forge_commit(ws, note_commit, path)
    forged_child = _forge_commit(ws, child, path, parent=forged_note)
    tag_text = git(ws, "cat-file", "tag", tag_object).replace(note_commit, forged_note, 1)
    forged_tag = _object(ws, "tag", tag_text)
    for real, fake in ((note_commit, forged_note), (child, forged_child), (tag_object, forged_tag)):
        git(ws, "replace", real, fake)
    # Plain git now tells the forged story, with every id unchanged.
    assert FORGED in git(ws, "show", f"HEAD:{path}") and FORGED in git(ws, "log", "-p", "-2")
    assert git(ws, "rev-parse", "HEAD").strip() == child
    return case.id, path


def test_replace_refs_are_ignored_and_reported(ws, cli):
    case_id, _path = _sealed_history_with_a_forgery(ws, cli)
    code, report = verify_json(cli, ws)
    assert code == 1
    assert codes(report) == ["REPLACE_REF"]  # and nothing forged passes as history
    assert len(report["items"]) == 3
    shown = cli("audit", "verify", cwd=ws)
    assert "refs/replace/" in shown.out and "cmtool ignores it" in shown.out

    history = cli("history", case_id, "--json", cwd=ws)
    assert history.code == 0, history.err
    assert ORIGINAL in history.out and FORGED not in history.out

    out = ws.parent / "export"
    exported = cli("audit", "export", "--period", "2025-11", "-o", str(out), cwd=ws)
    assert exported.code in (0, 1), exported.err
    notes = [row for row in csv.DictReader((out / "events.csv").open()) if ORIGINAL in str(row)]
    assert notes and FORGED not in (out / "events.csv").read_text()
    assert "REPLACE_REF" in (out / "findings.txt").read_text()

    # A seal vouches for the real commit and tree, and is refused while forgeries exist.
    assert cli("audit", "seal", cwd=ws).code == 4
    assert cli("audit", "seal", "--force", cwd=ws).code == 0
    real_tree = subprocess.run(
        ["git", "--no-replace-objects", "rev-parse", "HEAD^{tree}"], cwd=ws, capture_output=True, text=True
    ).stdout.strip()
    seal_text = subprocess.run(
        ["git", "--no-replace-objects", "cat-file", "-p", "cmtool-seal-2"],
        cwd=ws,
        capture_output=True,
        text=True,
    ).stdout
    assert f"Cmtool-Seal-Tree: {real_tree}" in seal_text

    for ref in git(ws, "for-each-ref", "--format=%(refname)", "refs/replace/").split():
        git(ws, "update-ref", "-d", ref)
    assert verify_json(cli, ws)[0] == 0


def test_grafts_are_ignored_and_reported(ws, cli):
    clock = Clock()
    case = lifecycle.file_case(ctx(ws, "alice", clock), {"title": "Charger overheats", "channel": "phone"})
    path = next(ws.glob("cases/*/*/*.yaml"))
    path.write_text(path.read_text() + "# checked by hand\n")
    git(ws, "commit", "-q", "-am", "quiet fix")
    hand_edit = git(ws, "rev-parse", "HEAD").strip()
    lifecycle.note(ctx(ws, "bob", clock), case.id, "Called back")
    head = git(ws, "rev-parse", "HEAD").strip()
    # The graft makes plain git skip the hand edit: HEAD's parent becomes the filing.
    (ws / ".git" / "info").mkdir(exist_ok=True)
    filing = git(ws, "rev-parse", f"{hand_edit}~1").strip()
    (ws / ".git" / "info" / "grafts").write_text(f"{head} {filing}\n")
    assert "quiet fix" not in subprocess.run(["git", "log"], cwd=ws, capture_output=True, text=True).stdout
    code, report = verify_json(cli, ws)
    assert code == 1
    found = codes(report)
    assert "GRAFTS_FILE" in found and "HAND_EDIT" in found
    hand = [item for item in report["items"] if item["code"] == "HAND_EDIT"]
    assert hand[0]["commit"] == hand_edit
