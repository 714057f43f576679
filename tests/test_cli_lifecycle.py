"""The case lifecycle through the real CLI, against real git repositories."""

from __future__ import annotations

import json
import re

from conftest import git

FILE_ARGS = [
    "file",
    "--channel",
    "phone",
    "--customer",
    "Li Wei",
    "--contact",
    "+86 138 0000 0000",
    "--product",
    "X1 charger",
    "--region",
    "Shanghai",
    "--title",
    "Charger overheats",
    "--description",
    "It got hot enough to smell after two days.\n第二天就很烫",
]


def file_case(cli, ws, *extra: str) -> str:
    result = cli(*FILE_ARGS, *extra, cwd=ws)
    assert result.code == 0, result.err
    return result.out.strip()


def trailers(ws, rev="HEAD") -> dict[str, list[str]]:
    out = git(ws, "log", "-1", "--format=%(trailers:only,unfold)", rev)
    found: dict[str, list[str]] = {}
    for line in out.splitlines():
        if ": " in line:
            key, value = line.split(": ", 1)
            found.setdefault(key, []).append(value)
    return found


def test_full_lifecycle_one_commit_per_action(cli, ws):
    case_id = file_case(cli, ws)
    steps = [
        ["assign", case_id[:12], "--to", "omar", "--now", "2025-11-21T17:40:00+08:00"],
        ["note", case_id, "Called the customer back", "--now", "2025-11-21T17:50:00+08:00"],
        ["wait", case_id, "--reason", "waiting for photos", "--now", "2025-11-22T10:00:00+08:00"],
        ["resume", case_id, "--now", "2025-11-24T09:00:00+08:00"],
        ["escalate", case_id, "--to", "bob", "--reason", "safety risk", "--now", "2025-11-24T09:30:00+08:00"],
        [
            "edit",
            case_id,
            "--priority",
            "high",
            "--category",
            "logistics",
            "--now",
            "2025-11-24T09:40:00+08:00",
        ],
        [
            "resolve",
            case_id,
            "--resolution",
            "Replaced the unit",
            "--remedy",
            "replacement",
            "--now",
            "2025-11-25T12:00:00+08:00",
        ],
        ["close", case_id, "--now", "2025-11-26T12:00:00+08:00"],
        ["reopen", case_id, "--reason", "It happened again", "--now", "2025-11-27T12:00:00+08:00"],
    ]
    for step in steps:
        before = git(ws, "rev-parse", "HEAD").strip()
        result = cli(*step, "--actor", "dana", cwd=ws)
        assert result.code == 0, (step, result.err)
        assert git(ws, "rev-parse", "HEAD~1").strip() == before  # exactly one new commit
        assert git(ws, "status", "--porcelain") == ""
        found = trailers(ws)
        assert found["Cmtool-Action"] == [step[0]]
        assert found["Cmtool-Case"] == [case_id]
        assert found["Cmtool-Actor"] == ["dana"]
        assert git(ws, "log", "-1", "--format=%an").strip() == "dana"
        changed = git(ws, "show", "--name-only", "--format=", "HEAD").split()
        assert changed == [f"cases/2025/11/{case_id}.yaml"]
    shown = json.loads(cli("show", case_id, "--json", cwd=ws).out)
    assert shown["status"] == "in_progress"
    assert shown["assignee"] == "bob"
    assert shown["priority"] == "high"
    assert shown["first_response_at"] == "2025-11-21T17:50:00+08:00"
    actions = [e["action"] for e in shown["events"]]
    assert actions[0] == "file" and actions[-len(steps) :] == [s[0] for s in steps]
    text = (ws / f"cases/2025/11/{case_id}.yaml").read_text(encoding="utf-8")
    assert "第二天就很烫" in text
    assert cli("validate", cwd=ws).code == 0


def test_list_filters_and_formats(cli, ws):
    first = file_case(cli, ws)
    second = file_case(cli, ws, "--priority", "critical")
    cli("assign", first, "--to", "omar", cwd=ws)
    rows = json.loads(cli("list", "--json", cwd=ws).out)
    assert {r["id"] for r in rows} == {first, second}
    assigned = json.loads(cli("list", "--assignee", "omar", "--json", cwd=ws).out)
    assert [r["id"] for r in assigned] == [first]
    top = json.loads(cli("list", "--sort", "-priority", "--json", cwd=ws).out)
    assert top[0]["id"] == second
    both = json.loads(cli("list", "--priority", "critical,normal", "--json", cwd=ws).out)
    assert {r["id"] for r in both} == {first, second}
    assert cli("list", "--priority", "urgent", cwd=ws).code == 2
    csv_out = cli("list", "--status", "open", "--csv", cwd=ws).out.splitlines()
    assert csv_out[0].startswith("id,status,priority") and len(csv_out) == 3
    assert json.loads(cli("list", "--status", "closed", "--json", cwd=ws).out) == []
    bad = cli("list", "--status", "finished", cwd=ws)
    assert bad.code == 2 and "--status" in bad.err


def test_bad_inputs_fail_cleanly_and_write_nothing(cli, ws):
    case_id = file_case(cli, ws)
    other = file_case(cli, ws)
    head = git(ws, "rev-parse", "HEAD")
    cases = [
        (["show", "C-991231-AAAAAAA"], 3, "no case"),
        (["assign", "C-2511", "--to", "x"], 4, "matches 2 cases"),
        (["close", case_id], 4, "cannot close"),
        (["file", "--title", "   "], 2, "title must not be empty"),
        (["show", "../../etc/passwd"], 2, "is not a case ID"),
        (["assign", "C-25/../../x", "--to", "x"], 2, "is not a case ID"),
        (["edit", case_id, "--priority", "urgent"], 2, "priority 'urgent'"),
        (["file", "--title", "x", "--channel", "pigeon"], 2, "channel 'pigeon'"),
    ]
    for args, code, message in cases:
        result = cli(*args, cwd=ws)
        assert result.code == code, (args, result.out, result.err)
        assert message in result.err
        assert "Traceback" not in result.err
        assert len(result.err.strip().splitlines()) <= 2  # error line and an optional hint
    assert git(ws, "rev-parse", "HEAD") == head
    assert git(ws, "status", "--porcelain") == ""
    cli("resolve", other, "--resolution", "done", cwd=ws)
    cli("close", other, cwd=ws)
    again = cli("close", other, cwd=ws)
    assert again.code == 4 and "already closed" in again.err


def test_custom_yaml_tags_are_refused_with_file_and_line(cli, ws):
    case_id = file_case(cli, ws)
    path = ws / f"cases/2025/11/{case_id}.yaml"
    path.write_text(path.read_text() + "evil: !!python/object/apply:os.system ['true']\n")
    # show and assign need this case: refused; list skips it, says so and exits 1
    for args, code in ((["show", case_id], 2), (["list"], 1), (["assign", case_id, "--to", "x"], 2)):
        result = cli(*args, cwd=ws)
        assert result.code == code, result.err
        assert f"cases/2025/11/{case_id}.yaml:" in result.err
        assert "Traceback" not in result.err


def test_validate_reports_broken_case_and_rules_with_lines(cli, ws):
    case_id = file_case(cli, ws)
    path = ws / f"cases/2025/11/{case_id}.yaml"
    path.write_text(re.sub(r"(?m)^status: .*$", "status: closed", path.read_text()))
    (ws / "cases/2025/11/C-251121-ZZZZZZZ.yaml").write_text("id: [unclosed\n")
    rules = ws / "rules.yaml"
    rules.write_text(rules.read_text() + "\nnonsense_section: 1\n")
    result = cli("validate", "--json", cwd=ws)
    assert result.code == 1
    problems = json.loads(result.out)["problems"]
    by_code = {p["code"]: p for p in problems}
    assert by_code["CASE_STATE_MISMATCH"]["line"] == 3
    assert by_code["CASE_STATE_MISMATCH"]["case_id"] == case_id
    assert by_code["CASE_YAML"]["path"] == "cases/2025/11/C-251121-ZZZZZZZ.yaml"
    assert any(p["path"] == "rules.yaml" and p["line"] for p in problems)
    text = cli("validate", cwd=ws)
    assert f"cases/2025/11/{case_id}.yaml:3: CASE_STATE_MISMATCH" in text.out


def test_hand_comment_survives_and_hand_edit_is_refused(cli, ws):
    case_id = file_case(cli, ws)
    path = ws / f"cases/2025/11/{case_id}.yaml"
    path.write_text(path.read_text().replace("region: Shanghai", "region: Shanghai  # Pudong"))
    dirty = cli("assign", case_id, "--to", "omar", cwd=ws)
    assert dirty.code == 6 and "not committed" in dirty.err
    git(ws, "commit", "-qam", "note the district")
    assert cli("assign", case_id, "--to", "omar", cwd=ws).code == 0
    assert "region: Shanghai  # Pudong" in path.read_text()
    assert "assignee: omar" in path.read_text()
    assert cli("validate", cwd=ws).code == 0


def test_lock_wait_is_bounded(cli, ws):
    import fcntl

    case_id = file_case(cli, ws)
    with open(ws / ".git" / "cmtool.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        result = cli("assign", case_id, "--to", "omar", cwd=ws, env={"CMTOOL_LOCK_TIMEOUT": "0.5"})
    assert result.code == 5 and "busy" in result.err
    assert cli("assign", case_id, "--to", "omar", cwd=ws).code == 0


def test_workspace_option_and_missing_workspace(cli, ws, tmp_path):
    assert cli("list", "--workspace", str(ws), "--json", cwd=tmp_path).code == 0
    missing = cli("list", cwd=tmp_path)
    assert missing.code == 3 and "no cmtool workspace" in missing.err
