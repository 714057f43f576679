"""Git faults: a stale index.lock, a sync killed mid-merge, a detached HEAD, and a
sync that would pull in a case-file deletion."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.conftest import git
from tests.test_crash_doctor import _conflicting_merge
from tests.test_sync import file_case, team  # noqa: F401 - the fixture


def doctor_codes(cli, root: Path, *flags: str) -> tuple[int, dict[str, str]]:
    done = cli("doctor", "--json", *flags, cwd=root)
    return done.code, {f["code"]: f["message"] for f in json.loads(done.out)["findings"]}


def head(root: Path) -> str:
    return git(root, "rev-parse", "HEAD").strip()


def test_a_stale_index_lock_does_not_turn_a_commit_into_a_reported_failure(ws, cli):
    (ws / ".git/index.lock").write_text("")  # a git killed a moment ago
    before = head(ws)
    filed = cli("file", "--title", "Kettle leaks", "--actor", "alice", cwd=ws)
    assert filed.code == 0, filed.err  # a retry would file a duplicate complaint
    case_id = filed.out.strip()
    assert "warning: committed" in filed.err and "index was not updated" in filed.err
    assert git(ws, "log", "-1", "--format=%s").startswith(f"file {case_id}")
    assert git(ws, "rev-parse", "HEAD~1").strip() == before
    code, found = doctor_codes(cli, ws)
    assert code == 1
    assert set(found) == {"GIT_LOCK_LEFT", "INDEX_OUT_OF_SYNC"}  # not "it never happened"
    assert found["INDEX_OUT_OF_SYNC"].startswith("committed, index not updated")
    assert doctor_codes(cli, ws, "--repair")[0] == 0
    assert git(ws, "status", "--porcelain") == ""
    assert cli("audit", "verify", cwd=ws).code == 0


def test_an_old_git_lock_is_cleared_by_the_next_action(ws, cli):
    case_id = cli("file", "--title", "Kettle leaks", cwd=ws).out.strip()
    lock = ws / ".git/index.lock"
    lock.write_text("")
    old = time.time() - 3600
    os.utime(lock, (old, old))
    noted = cli("note", case_id, "called back", cwd=ws)
    assert noted.code == 0, noted.err
    assert "cleared the stale git lock .git/index.lock" in noted.err
    assert "index was not updated" not in noted.err
    assert not lock.exists()
    assert git(ws, "status", "--porcelain") == ""
    assert doctor_codes(cli, ws)[0] == 0


def test_actions_and_sync_recover_from_a_sync_killed_mid_merge(ws, cli):
    case_id = cli("file", "--title", "Kettle leaks", cwd=ws).out.strip()
    _conflicting_merge(ws)
    (ws / ".git/cmtool-sync.json").write_text('{"pid": 1, "merging": "other"}')  # what a killed sync leaves
    noted = cli("note", case_id, "called back", cwd=ws)
    assert noted.code == 0, noted.err
    assert "cleared the half-done merge of an interrupted sync" in noted.err
    assert not (ws / ".git/MERGE_HEAD").exists()
    assert git(ws, "status", "--porcelain") == ""
    assert doctor_codes(cli, ws)[0] == 0


def test_sync_recovers_from_its_own_interrupted_merge(team, cli):  # noqa: F811
    a, _remote, b = team
    file_case(cli, b, "Filed in b")
    assert cli("sync", cwd=b).code == 0
    _conflicting_merge(a)
    (a / ".git/cmtool-sync.json").write_text('{"pid": 1, "merging": "origin/main"}')
    synced = cli("sync", cwd=a)
    assert synced.code == 0, synced.err
    assert not (a / ".git/MERGE_HEAD").exists()
    assert git(a, "status", "--porcelain") == ""


def test_an_action_on_a_detached_head_is_refused(ws, cli):
    case_id = cli("file", "--title", "Kettle leaks", cwd=ws).out.strip()
    git(ws, "checkout", "-q", "--detach")
    before = head(ws)
    noted = cli("note", case_id, "would be orphaned", cwd=ws)
    assert noted.code == 6
    assert "HEAD is detached" in noted.err and "git switch" in noted.err
    assert head(ws) == before
    assert git(ws, "status", "--porcelain") == ""
    git(ws, "switch", "-q", "main")
    assert cli("note", case_id, "on the branch", cwd=ws).code == 0


def test_sync_refuses_to_pull_in_a_case_file_deletion(team, cli):  # noqa: F811
    a, remote, b = team
    case_id = file_case(cli, a, "Kept forever")
    assert cli("sync", cwd=a).code == 0
    git(b, "pull", "-q")
    path = next((b / "cases").rglob(f"{case_id}.yaml")).relative_to(b)
    git(b, "rm", "-q", str(path))
    git(b, "commit", "-qm", "tidy up")
    git(b, "push", "-q")
    file_case(cli, a, "Filed meanwhile")
    before = head(a)
    synced = cli("sync", cwd=a)
    assert synced.code == 6
    assert f"deletes case files ({path})" in synced.err
    assert head(a) == before and (a / path).exists()
    assert git(a, "status", "--porcelain") == ""
    assert git(remote, "rev-parse", "main").strip() != before  # nothing pushed
