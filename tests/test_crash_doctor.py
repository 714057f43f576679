"""`cmtool doctor`: each leftover an interrupted command can leave, found and repaired."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.conftest import git


@pytest.fixture
def case(ws, cli) -> tuple[Path, str, Path]:
    result = cli("file", "--title", "Kettle leaks", cwd=ws)
    assert result.code == 0, result.err
    case_id = result.out.strip()
    return ws, case_id, ws / f"cases/2025/11/{case_id}.yaml"


def findings(cli, root: Path, *flags: str) -> tuple[int, list[str]]:
    result = cli("doctor", "--json", *flags, cwd=root)
    assert "Traceback" not in result.err
    return result.code, [f["code"] for f in json.loads(result.out)["findings"]]


def test_a_healthy_workspace(case, cli):
    root, _case_id, _path = case
    result = cli("doctor", cwd=root)
    assert result.code == 0 and result.out.strip() == "workspace is healthy"


def test_an_action_killed_between_write_and_commit_is_rolled_back(case, cli):
    root, case_id, path = case
    committed = path.read_text()
    (root / ".git/cmtool-journal.json").write_text(json.dumps({"paths": [str(path.relative_to(root))]}))
    path.write_text(committed.replace("Kettle leaks", "half-done action"))
    (path.parent / f".{path.name}.tmp-4242").write_text("partial")
    assert findings(cli, root) == (1, ["INTERRUPTED_ACTION", "TEMP_FILES"])
    shown = cli("doctor", cwd=root)
    assert "found: INTERRUPTED_ACTION" in shown.out and "doctor --repair" in shown.out
    assert findings(cli, root, "--repair")[0] == 0
    assert path.read_text() == committed
    assert list(path.parent.glob(".*tmp-*")) == []
    assert git(root, "status", "--porcelain") == ""
    assert cli("note", case_id, "next action", cwd=root).code == 0


def test_a_hand_edit_is_kept_aside_and_the_commit_restored(case, cli):
    root, case_id, path = case
    committed = path.read_text()
    path.write_text(committed.replace("Kettle leaks", "edited by hand"))
    stray = path.with_name("C-251121-ZZZZZZZ.yaml")
    stray.write_text("id: C-251121-ZZZZZZZ\n")
    assert cli("note", case_id, "blocked", cwd=root).code == 6  # refuses to overwrite the edit
    code, found = findings(cli, root)
    assert (code, found) == (1, ["UNCOMMITTED_CASE_FILE", "UNCOMMITTED_CASE_FILE"])
    assert findings(cli, root, "--repair")[0] == 0
    assert path.read_text() == committed and not stray.exists()
    aside = root / ".cmtool/doctor/20251121T173000/cases/2025/11"
    assert "edited by hand" in (aside / path.name).read_text()
    assert (aside / stray.name).exists()
    assert git(root, "status", "--porcelain") == ""
    assert cli("note", case_id, "works again", cwd=root).code == 0


def test_an_index_that_missed_a_commit_is_updated(case, cli):
    root, case_id, path = case
    rel = str(path.relative_to(root))
    before = git(root, "rev-parse", f"HEAD:{rel}").strip()
    assert cli("note", case_id, "second", cwd=root).code == 0
    # As if killed after update-ref and before update-index: the index has the old blob.
    git(root, "update-index", "--cacheinfo", f"100644,{before},{rel}")
    assert git(root, "status", "--porcelain") != ""
    assert findings(cli, root) == (1, ["INDEX_OUT_OF_SYNC"])
    assert findings(cli, root, "--repair")[0] == 0
    assert git(root, "status", "--porcelain") == ""


def test_a_git_lock_left_by_a_killed_git_is_removed(case, cli):
    root, case_id, _path = case
    lock = root / ".git/index.lock"
    lock.write_text("")
    os.utime(lock, (time.time() - 60, time.time() - 60))
    # The action is committed (a retry would duplicate it); only the index lags.
    noted = cli("note", case_id, "committed anyway", cwd=root)
    assert noted.code == 0 and "doctor --repair" in noted.err
    assert findings(cli, root)[1] == ["GIT_LOCK_LEFT", "INDEX_OUT_OF_SYNC"]
    assert findings(cli, root, "--repair")[0] == 0
    assert not lock.exists()
    assert cli("note", case_id, "works again", cwd=root).code == 0
    assert git(root, "status", "--porcelain") == ""
    assert cli("validate", cwd=root).code == 0


def _conflicting_merge(root: Path) -> None:
    git(root, "switch", "-q", "-c", "other")
    (root / "rules.yaml").write_text((root / "rules.yaml").read_text() + "# other\n")
    git(root, "commit", "-qam", "other")
    git(root, "switch", "-q", "main")
    (root / "rules.yaml").write_text((root / "rules.yaml").read_text() + "# main\n")
    git(root, "commit", "-qam", "main")
    import subprocess

    assert subprocess.run(["git", "merge", "other"], cwd=root, capture_output=True).returncode
    assert (root / ".git/MERGE_HEAD").exists()


def test_a_merge_by_hand_is_explained_never_aborted(case, cli):
    root, _case_id, _path = case
    _conflicting_merge(root)
    assert findings(cli, root, "--repair") == (1, ["MERGE_IN_PROGRESS"])
    assert (root / ".git/MERGE_HEAD").exists()


def test_a_merge_left_by_a_killed_sync_is_undone(case, cli):
    root, _case_id, _path = case
    _conflicting_merge(root)
    (root / ".git/cmtool-sync.json").write_text('{"pid": 1}')
    assert findings(cli, root)[1][0] == "INTERRUPTED_SYNC"
    assert findings(cli, root, "--repair")[0] == 0
    assert not (root / ".git/MERGE_HEAD").exists()
    assert git(root, "status", "--porcelain") == ""
