"""`cmtool audit verify`: each kind of tampering is found, a clean history has no findings."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from audit_helpers import Clock, codes, ctx, ordinary_history, outside_cmtool, verify_json
from conftest import git, put_rules_sections

from cmtool.services import lifecycle
from cmtool.services.audit import verify
from cmtool.services.context import commit_message
from cmtool.store.transaction import transaction
from cmtool.store.workspace import Workspace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from generate import generate  # noqa: E402


def hand_commit(ws, path: str, message: str = "fix typo") -> str:
    git(ws, "add", "--", path)
    git(ws, "commit", "-q", "-m", message, "--", path)
    return git(ws, "rev-parse", "HEAD").strip()


def case_file(ws, case_id: str):
    return next(ws.glob(f"cases/*/*/{case_id}.yaml"))


def test_clean_history_of_hundreds_of_actions_has_no_findings(tmp_path, cli):
    root = tmp_path / "bench"
    # Realistic timelines (assign, contact, waiting, escalation, resolve, close, reopen),
    # one commit per action with cmtool trailers, written through git fast-import.
    generate(root, 60, history="actions", seed=7)
    actions = int(git(root, "rev-list", "--count", "HEAD"))
    assert actions > 250
    started = time.perf_counter()
    code, report = verify_json(cli, root)
    assert (code, report["items"]) == (0, [])
    assert report["commits_checked"] == actions and report["case_files_checked"] == 60
    assert time.perf_counter() - started < 10


def test_clean_history_made_by_the_services_has_no_findings(ws, cli):
    clock = Clock()
    ids = ordinary_history(ws, 6, clock)
    lifecycle.reopen(ctx(ws, "dana", clock), ids[0], "customer called again")
    lifecycle.wait(ctx(ws, "bob", clock), ids[0], "photos")
    lifecycle.resume(ctx(ws, "bob", clock), ids[0])
    lifecycle.escalate(ctx(ws, "bob", clock), ids[0], "dana", "angry customer")
    code, report = verify_json(cli, ws)
    assert (code, report["items"], report["commits_checked"]) == (0, [], 35)


def test_hand_status_edit_is_reported_with_commit_file_and_line(ws, cli):
    clock = Clock()
    (case_id,) = ordinary_history(ws, 1, clock)
    path = case_file(ws, case_id)
    path.write_text(path.read_text().replace("status: closed", "status: in_progress"))
    sha = hand_commit(ws, str(path.relative_to(ws)))
    result = cli("audit", "verify", cwd=ws)
    assert result.code == 1
    rel = str(path.relative_to(ws))
    assert f"{sha[:12]} {rel}: HAND_EDIT" in result.out
    assert f"{sha[:12]} {rel}:3: CASE_STATE_MISMATCH status is 'in_progress'" in result.out
    assert "finding(s)" in result.err


def test_deleted_event_is_reported(ws, cli):
    clock = Clock()
    (case_id,) = ordinary_history(ws, 1, clock)
    path = case_file(ws, case_id)
    text = path.read_text()
    start = text.index("- at:", text.index("action: note") - 80)
    end = text.index("- at:", start + 5)
    path.write_text(text[:start] + text[end:])
    hand_commit(ws, str(path.relative_to(ws)))
    code, report = verify_json(cli, ws)
    assert code == 1
    assert {"HAND_EDIT", "EVENT_REMOVED"} <= set(codes(report))
    removed = next(i for i in report["items"] if i["code"] == "EVENT_REMOVED")
    assert removed["case_id"] == case_id and "event 3" in removed["message"]


def test_changed_event_time_is_reported(ws, cli):
    clock = Clock()
    (case_id,) = ordinary_history(ws, 1, clock)
    path = case_file(ws, case_id)
    text = path.read_text()
    assert 'at: "2025-11-22T09:14:00+08:00"' in text  # the assign event
    earlier = text.replace('at: "2025-11-22T09:14:00+08:00"', 'at: "2025-11-22T09:10:00+08:00"')
    path.write_text(earlier)
    hand_commit(ws, str(path.relative_to(ws)))
    code, report = verify_json(cli, ws)
    rewritten = [i for i in report["items"] if i["code"] == "EVENT_REWRITTEN"]
    assert code == 1 and len(rewritten) == 1
    assert "2025-11-22T09:14:00+08:00" in rewritten[0]["message"] and rewritten[0]["line"]


def test_deleted_case_file_is_reported(ws, cli):
    clock = Clock()
    (case_id,) = ordinary_history(ws, 1, clock)
    rel = str(case_file(ws, case_id).relative_to(ws))
    git(ws, "rm", "-q", rel)
    git(ws, "commit", "-q", "-m", "remove duplicate")
    code, report = verify_json(cli, ws)
    assert code == 1 and "CASE_DELETED" in codes(report)
    assert next(i for i in report["items"] if i["code"] == "CASE_DELETED")["path"] == rel


def test_commit_touching_two_cases_but_naming_one(ws, cli):
    clock = Clock()
    first, second = ordinary_history(ws, 2, clock)
    root = Workspace(ws)
    context = ctx(ws, "bob", clock)
    with transaction(root) as tx:
        for case_id in (first, second):
            case, text = tx.load(case_id)
            from cmtool.model.events import Event

            tx.put(case.with_event(Event(context.now_text, "bob", "internal_note", note="x")), text)
        tx.commit(
            commit_message(f"internal_note {first}", "internal_note", "bob", [first]),
            context.identity,
            context.now_text,
        )
    code, report = verify_json(cli, ws)
    assert code == 1 and codes(report) == ["TRAILER_UNNAMED_CASE"]
    assert report["items"][0]["case_id"] == second


ROLES = """
roles:
  agent: {may: [file, assign, note, internal_note, wait, resume, resolve, close], max_redress: 500}
  lead: {description: may do anything}
people:
  alice: {role: agent}
  bob: {role: agent}
  dana: {role: lead}
"""


def test_action_by_actor_without_the_role(ws, cli):
    put_rules_sections(ws / "rules.yaml", ROLES)
    hand_commit(ws, "rules.yaml", "rules: roles")
    clock = Clock()
    (case_id,) = ordinary_history(ws, 1, clock)  # dana (lead) closes redress 20: fine
    assert verify(Workspace(ws)).findings == []
    case = lifecycle.file_case(ctx(ws, "alice", clock), {"title": "Refund"})
    lifecycle.assign(ctx(ws, "dana", clock), case.id, "bob")
    with outside_cmtool():  # cmtool itself refuses both (test_people.py)
        lifecycle.resolve(ctx(ws, "bob", clock), case.id, "Refunded", redress=900)  # over 500 in any currency
        lifecycle.edit(ctx(ws, "mallory", clock), case.id, {"priority": "high"})  # not a person
    code, report = verify_json(cli, ws)
    denied = [i["message"] for i in report["items"] if i["code"] == "ROLE_DENIED"]
    assert code == 1 and len(denied) == 2, report
    assert "'bob' (agent) may not resolve a case with redress 900" in denied[0]
    assert "'mallory' is not listed under people" in denied[1]


def test_unsigned_commit_when_signing_is_required(ws, cli):
    clock = Clock()
    ordinary_history(ws, 1, clock)
    assert verify(Workspace(ws)).findings == []  # not required yet: unsigned is fine
    put_rules_sections(ws / "rules.yaml", "audit:\n  require_signed_commits: true\n")
    hand_commit(ws, "rules.yaml", "rules: require signed commits")
    case = lifecycle.file_case(ctx(ws, "alice", clock), {"title": "Unsigned"})
    code, report = verify_json(cli, ws)
    unsigned = [i for i in report["items"] if i["code"] == "UNSIGNED_COMMIT"]
    assert code == 1 and len(unsigned) == 1
    assert unsigned[0]["commit"] == git(ws, "rev-parse", "HEAD").strip()
    assert case.id  # the commit that filed it is the unsigned one


def test_since_checks_only_later_commits(ws, cli):
    clock = Clock()
    first, second = ordinary_history(ws, 2, clock)
    path = case_file(ws, first)
    path.write_text(path.read_text().replace("status: closed", "status: resolved"))
    hand_commit(ws, str(path.relative_to(ws)))
    middle = git(ws, "rev-parse", "HEAD").strip()
    lifecycle.reopen(ctx(ws, "dana", clock), second, "customer called again")
    code, report = verify_json(cli, ws, "--since", middle)
    assert (code, report["commits_checked"], report["items"]) == (0, 1, [])
    code, report = verify_json(cli, ws)
    assert code == 1 and report["commits_checked"] == 13
    bad = cli("audit", "verify", "--since", "no-such-rev", cwd=ws)
    assert bad.code == 2 and "no such commit" in bad.err and "Traceback" not in bad.err
