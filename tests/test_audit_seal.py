"""`cmtool audit seal`: sealed history that is amended, rebased or re-tagged is detected."""

from __future__ import annotations

import json

from audit_helpers import Clock, codes, ctx, ordinary_history, verify_json
from conftest import git

from cmtool.services import lifecycle


def test_seal_records_commit_tree_and_chain(ws, cli):
    ordinary_history(ws, 1, Clock())
    first = cli("audit", "seal", "-m", "month end", "--json", cwd=ws)
    assert first.code == 0, first.err
    sealed = json.loads(first.out)
    assert sealed["tag"] == "cmtool-seal-1"
    assert sealed["commit"] == git(ws, "rev-parse", "HEAD").strip()
    message = git(ws, "cat-file", "-p", "cmtool-seal-1")
    assert f"Cmtool-Seal-Commit: {sealed['commit']}" in message
    assert f"Cmtool-Seal-Tree: {git(ws, 'rev-parse', 'HEAD^{tree}').strip()}" in message
    again = cli("audit", "seal", cwd=ws)
    assert again.code == 4 and "already sealed" in again.err
    lifecycle.file_case(ctx(ws, "alice", Clock(Clock().moment.replace(hour=12))), {"title": "x"})
    second = cli("audit", "seal", "--json", cwd=ws)
    assert second.code == 0, second.err
    assert f"Cmtool-Seal-Previous: {sealed['tag_object']}" in git(ws, "cat-file", "-p", "cmtool-seal-2")
    assert verify_json(cli, ws)[1]["seals_checked"] == 2
    assert verify_json(cli, ws)[0] == 0


def test_amend_of_sealed_history_is_detected(ws, cli):
    ordinary_history(ws, 1, Clock())
    assert cli("audit", "seal", cwd=ws).code == 0
    git(ws, "commit", "-q", "--amend", "-m", "close C-...: closed (reworded)")
    code, report = verify_json(cli, ws)
    assert code == 1 and "SEAL_NOT_IN_HISTORY" in codes(report)


def test_rebase_of_sealed_history_then_retag_is_detected(ws, cli):
    clock = Clock()
    ordinary_history(ws, 2, clock)
    assert cli("audit", "seal", cwd=ws).code == 0
    lifecycle.note(ctx(ws, "bob", clock), next(ws.glob("cases/*/*/*.yaml")).stem, "later")
    assert cli("audit", "seal", cwd=ws).code == 0
    # Rewrite an early commit (drop it) and replay the rest: a rebase.
    victim = git(ws, "rev-list", "--reverse", "HEAD").split()[3]
    git(ws, "rebase", "-q", "--onto", f"{victim}^", victim)
    code, report = verify_json(cli, ws)
    assert code == 1 and "SEAL_NOT_IN_HISTORY" in codes(report)
    # Re-creating the latest seal on the new history breaks the chain instead.
    git(ws, "tag", "-d", "cmtool-seal-2")
    git(
        ws,
        "tag",
        "-a",
        "cmtool-seal-2",
        "-m",
        "audit seal\n\nCmtool-Seal: 2\n"
        f"Cmtool-Seal-Commit: {git(ws, 'rev-parse', 'HEAD').strip()}\n"
        f"Cmtool-Seal-Tree: {git(ws, 'rev-parse', 'HEAD^{tree}').strip()}\n"
        "Cmtool-Seal-Previous: none\n",
    )
    code, report = verify_json(cli, ws)
    assert code == 1 and {"SEAL_CHAIN_BROKEN", "SEAL_NOT_IN_HISTORY"} <= set(codes(report))


def test_moved_seal_tag_is_detected(ws, cli):
    clock = Clock()
    ordinary_history(ws, 1, clock)
    assert cli("audit", "seal", cwd=ws).code == 0
    message = git(ws, "tag", "-l", "--format=%(contents)", "cmtool-seal-1")
    git(ws, "tag", "-f", "-a", "cmtool-seal-1", "-m", message, "HEAD~1")
    code, report = verify_json(cli, ws)
    assert code == 1 and "SEAL_MOVED" in codes(report)


def test_seal_refuses_a_tampered_history(ws, cli):
    ordinary_history(ws, 1, Clock())
    path = next(ws.glob("cases/*/*/*.yaml"))
    path.write_text(path.read_text().replace("status: closed", "status: resolved"))
    git(ws, "commit", "-q", "-am", "hand edit")
    refused = cli("audit", "seal", cwd=ws)
    assert refused.code == 4 and "finding(s)" in refused.err
    assert git(ws, "tag", "-l") == ""
    assert cli("audit", "seal", "--force", cwd=ws).code == 0
