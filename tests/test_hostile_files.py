"""Planted and malformed files: alias bombs, deep nesting, odd scalars, links, CRLF.

Every one is a data error naming file and line (exit 1 from validate, 2 from a
command that needs the file), never an internal error (exit 70) or a hang.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

import pytest
from conftest import git

BOMB = "\n".join(
    ['lol0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"lol{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
)


@pytest.fixture
def case(ws, cli) -> tuple[Path, str]:
    """A workspace with one filed case (routed to bob): (workspace, case id)."""
    filed = cli("file", "--title", "Charger overheats", "--channel", "phone", "--json", cwd=ws)
    assert filed.code == 0, filed.err
    case_id = re.search(r"C-\d{6}-\w{7}", filed.out).group(0)
    return ws, case_id


def _path(ws: Path, case_id: str) -> Path:
    return next(ws.glob(f"cases/*/*/{case_id}.yaml"))


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _no_crash(cli, ws: Path, *commands: tuple[str, ...]) -> None:
    for command in commands:
        result = cli(*command, cwd=ws)
        assert result.code in (0, 1, 2), (command, result.code, result.err)
        assert "internal error" not in result.err, (command, result.err)


def _mutations(text: str) -> dict[str, tuple[str, str]]:
    """name -> (new text, the text on the line the error must name)."""
    at_line = next(line for line in text.splitlines() if line.startswith("- at: "))
    changes = "  changes:\n"
    after_changes = text.index(changes) + len(changes)
    next_key = re.compile(r"^(?!    )", re.M).search(text, after_changes).start()  # the block's end
    return {
        "alias bomb": (text.replace("assignee: bob\n", "assignee: bob\n" + BOMB + "\n"), "lol0: &a0"),
        "deep nesting 5000": (text.replace("tags: null", "tags: " + "[" * 5000 + "]" * 5000), "tags: [[["),
        "deep nesting 900": (text.replace("tags: null", "tags: " + "[" * 900 + "]" * 900), "tags: [[["),
        "5000-digit integer": (
            text.replace("escalation_level: null", "escalation_level: " + "9" * 5000),
            "escalation",
        ),
        "duplicate key": (
            text.replace("assignee: bob\n", "assignee: bob\nassignee: mallory\n"),
            "assignee: mallory",
        ),
        "bad timestamp": (text.replace("assignee: bob", "assignee: 2025-13-45"), "assignee: 2025-13-45"),
        "at is not a time": (text.replace(at_line, "- at: yesterday"), "- at: yesterday"),
        "year 9999": (
            text.replace(at_line, at_line.replace('"2025', '"9999')),
            at_line.replace('"2025', '"9999'),
        ),
        "changes as a list": (
            text[: after_changes - 1] + " [status, new]\n" + text[next_key:],
            "  changes: [status",
        ),
    }


def test_malformed_case_files_are_data_errors_with_lines(case, cli):
    ws, case_id = case
    path = _path(ws, case_id)
    rel = str(path.relative_to(ws))
    original = path.read_text()
    assert "tags: null" in original and "escalation_level: null" in original
    for name, (text, marker) in _mutations(original).items():
        assert text != original, name
        path.write_text(text)
        git(ws, "commit", "-qam", f"hand edit: {name}")
        started = time.monotonic()
        checked = cli("validate", cwd=ws)
        assert checked.code == 1, (name, checked.code, checked.err)
        assert f"{rel}:{_line_of(text, marker)}: " in checked.out, (name, checked.out)
        shown = cli("show", case_id, cwd=ws)
        assert shown.code == 2 and f"{rel}:" in shown.err, (name, shown.err)
        _no_crash(cli, ws, ("sla", "check"))
        assert time.monotonic() - started < 30, name
        path.write_text(original)
        git(ws, "commit", "-qam", "put back")
    # Every broken version is in the history now: verify reads them all.
    verified = cli("audit", "verify", cwd=ws)
    assert verified.code == 1 and "internal error" not in verified.err
    # bomb, 5000 and 900 deep, 5000 digits, a key twice, 2025-13-45
    assert verified.out.count("CASE_YAML") == 6
    _no_crash(cli, ws, ("history", case_id), ("list",), ("stats",))


def test_alias_bomb_in_rules_yaml_is_refused_with_its_line(case, cli):
    ws, _ = case
    rules = ws / "rules.yaml"
    text = rules.read_text() + "x_bomb:\n" + "".join(f"  {line}\n" for line in BOMB.splitlines())
    rules.write_text(text)
    git(ws, "commit", "-qam", "bomb")
    checked = cli("validate", cwd=ws)
    assert checked.code == 1
    assert f"rules.yaml:{_line_of(text, 'lol0: &a0')}: RULES_YAML" in checked.out
    assert "aliases" in checked.out
    swept = cli("sla", "check", cwd=ws)
    assert swept.code == 2 and "aliases" in swept.err
    verified = cli("audit", "verify", cwd=ws)
    assert verified.code == 1 and "RULES_YAML" in verified.out


def test_oversized_case_file_is_refused_before_parsing(case, cli):
    ws, case_id = case
    path = _path(ws, case_id)
    with path.open("a") as handle:
        handle.write("# " + "x" * (17 * 1024 * 1024) + "\n")
    checked = cli("validate", cwd=ws)
    assert checked.code == 1 and "CASE_TOO_LARGE" in checked.out
    shown = cli("show", case_id, cwd=ws)
    assert shown.code == 2 and "more than the limit" in shown.err


@pytest.mark.parametrize(
    "now", ["9999-12-31T23:59:59-12:00", "0001-01-01T00:00:00+14:00", "1969-12-31T23:00:00+00:00"]
)
def test_extreme_now_is_refused_at_input(case, cli, now):
    ws, case_id = case
    for command in (("sla", "check"), ("stats",), ("list",), ("show", case_id), ("note", case_id, "hi")):
        result = cli(*command, "--now", now, cwd=ws)
        assert result.code == 2 and "outside the years 1970-2999" in result.err, (command, result.err)


def test_links_and_special_files_in_cases_are_refused_and_reported(case, cli, tmp_path):
    ws, case_id = case
    secret = tmp_path / "secret.yaml"
    secret.write_text("id: C-251121-SECRET1\ntitle: the secret outside the workspace\n")
    folder = _path(ws, case_id).parent
    planted = {
        "C-251121-AAAAAAA.yaml": str(secret),
        "C-251121-BBBBBBB.yaml": "/dev/zero",
        "C-251121-CCCCCCC.yaml": "/dev/stdin",
    }
    for name, target in planted.items():
        os.symlink(target, folder / name)
    os.mkfifo(folder / "C-251121-DDDDDDD.yaml")
    (folder / "C-251121-EEEEEEE.yaml").mkdir()
    (ws / "cases" / "2025" / "12").symlink_to(tmp_path)

    checked = cli("validate", cwd=ws)
    assert checked.code == 1
    for name in [*planted, "C-251121-DDDDDDD.yaml", "C-251121-EEEEEEE.yaml"]:
        assert f"{folder.relative_to(ws)}/{name}: CASE_NOT_REGULAR_FILE" in checked.out, name
    assert "cases/2025/12: CASE_NOT_REGULAR_FILE is a symbolic link" in checked.out
    assert "secret" not in checked.out

    shown = cli("show", "C-251121-AAAAAAA", cwd=ws)
    assert shown.code == 2 and "symbolic link" in shown.err and "secret" not in shown.out + shown.err
    _no_crash(
        cli, ws, ("show", "C-251121-BBBBBBB"), ("show", "C-251121-CCCCCCC"), ("list",), ("sla", "check")
    )

    doctor = cli("doctor", cwd=ws)
    assert doctor.code == 1
    assert doctor.out.count("NOT_A_REGULAR_FILE") == 6

    (folder / "C-251121-DDDDDDD.yaml").unlink()
    (folder / "C-251121-EEEEEEE.yaml").rmdir()
    (ws / "cases" / "2025" / "12").unlink()
    git(ws, "add", "cases")
    git(ws, "commit", "-qm", "links")
    verified = cli("audit", "verify", cwd=ws)
    assert verified.code == 1
    assert verified.out.count("CASE_NOT_REGULAR_FILE committed as a symbolic link") == 3


def test_linked_rules_yaml_is_refused(case, cli, tmp_path):
    ws, _ = case
    outside = tmp_path / "rules.yaml"
    outside.write_text((ws / "rules.yaml").read_text())
    (ws / "rules.yaml").unlink()
    (ws / "rules.yaml").symlink_to(outside)
    checked = cli("validate", cwd=ws)
    assert checked.code == 1 and "rules.yaml: RULES_UNREADABLE is a symbolic link" in checked.out
    assert cli("sla", "check", cwd=ws).code == 2
    doctor = cli("doctor", cwd=ws)
    assert "rules.yaml is a symbolic link" in doctor.out


def test_a_case_file_committed_with_crlf_can_be_acted_on(case, cli):
    ws, case_id = case
    path = _path(ws, case_id)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    git(ws, "commit", "-qam", "saved on Windows")
    assert cli("doctor", cwd=ws).out.count("found:") == 0
    assert cli("validate", cwd=ws).code == 0
    noted = cli("note", case_id, "Called back", cwd=ws)
    assert noted.code == 0, noted.err
    assert git(ws, "status", "--porcelain") == ""
    assert "Called back" in cli("show", case_id, cwd=ws).out
    items = json.loads(cli("audit", "verify", "--json", cwd=ws).out)["items"]
    hand = [item for item in items if item["code"] not in ("ROLE_DENIED",)]  # roles: not this test's
    assert [item["code"] for item in hand] == ["HAND_EDIT"]  # the save on Windows, nothing after it


def test_uncommitted_crlf_is_reported_by_doctor_and_refused(case, cli):
    ws, case_id = case
    path = _path(ws, case_id)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert "UNCOMMITTED_CASE_FILE" in cli("doctor", cwd=ws).out
    refused = cli("note", case_id, "Called back", cwd=ws)
    assert refused.code == 6 and "not committed" in refused.err
