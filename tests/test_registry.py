"""One registry of what cmtool writes (cmtool.model.registry), shared by the writers
and `audit verify`: a writer that emits a name the registry lacks fails here.

The static scan reads every module of the package: literal (or module-constant)
actions passed to ``commit_message`` and ``Event``, and every ``Cmtool-*`` trailer
name in the code. The ordinary-month test (tests/test_ordinary_month.py) checks
the same from the other end: every name found in a real history is registered.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

from cmtool.audit.trailers import parse_trailers
from cmtool.importing.timeline import WALK_ACTIONS
from cmtool.model.registry import COMMIT_ACTIONS, COMMIT_TRAILERS, EVENT_KINDS, SEAL_TRAILERS
from cmtool.model.transitions import TRANSITIONS
from cmtool.rules.access import EVENT_ACTIONS
from cmtool.services.context import commit_message
from cmtool.sla.ladder import LADDER_ACTIONS
from cmtool.sla.periods import EXCLUDE, EXTEND

PACKAGE = Path(__file__).resolve().parent.parent / "cmtool"
TRAILER_NAME = re.compile(r"\bCmtool-[A-Z][A-Za-z-]*[A-Za-z]\b")


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in sorted(PACKAGE.rglob("*.py"))]


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level NAME = "text" assignments (e.g. CONTEST_ACTION = "merge_contest")."""
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def _literal(node: ast.AST | None, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _called(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _emitted() -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[tuple[str, str]]]:
    """(commit actions, event actions, trailer names), each with where it was written."""
    commits, events, trailers = set(), set(), set()
    for path, tree in _modules():
        where = str(path.relative_to(PACKAGE.parent))
        constants = _constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                trailers |= {(name, where) for name in TRAILER_NAME.findall(node.value)}
            if not isinstance(node, ast.Call):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            if _called(node) == "commit_message":
                arg = node.args[1] if len(node.args) > 1 else keywords.get("action")
                value = _literal(arg, constants)
                if value is not None:
                    commits.add((value, where))
            elif _called(node) == "Event":
                arg = node.args[2] if len(node.args) > 2 else keywords.get("action")
                value = _literal(arg, constants)
                if value is not None:
                    events.add((value, where))
    return commits, events, trailers


def test_the_scan_finds_the_writers():
    commits, events, trailers = _emitted()
    assert {"file", "import", "sync", "sla_sweep", "init"} <= {name for name, _ in commits}
    assert {"file", "merge_contest", "merge"} <= {name for name, _ in events}
    assert {"Cmtool-Action", "Cmtool-Source", "Cmtool-Seal-Commit"} <= {name for name, _ in trailers}


def test_every_name_a_writer_emits_is_registered():
    commits, events, trailers = _emitted()
    assert sorted(c for c in commits if c[0] not in COMMIT_ACTIONS) == []
    assert sorted(e for e in events if e[0] not in EVENT_KINDS) == []
    known = set(COMMIT_TRAILERS) | set(SEAL_TRAILERS)
    assert sorted(t for t in trailers if t[0] not in known) == []


def test_action_tables_of_other_modules_are_registered():
    for table in (TRANSITIONS, WALK_ACTIONS, LADDER_ACTIONS, (EXTEND, EXCLUDE), EVENT_ACTIONS):
        assert set(table) <= set(EVENT_KINDS), table
    for action in TRANSITIONS:  # an action a person takes is a commit of its own
        if action not in (
            "merge_contest",
            "classify",
            "prioritize",
            "apply_regime",
            "sla_warn",
            "sla_escalate",
        ):
            assert action in COMMIT_ACTIONS, action


def test_a_writer_cannot_emit_an_unregistered_name():
    with pytest.raises(ValueError, match="registry"):
        commit_message("x", "teleport", "ana", [])
    with pytest.raises(ValueError, match="registry"):
        commit_message("x", "file", "ana", [], {"Cmtool-Mood": "happy"})
    text = commit_message("import a.csv", "import", "ana", [], {"Cmtool-Source": "a.csv sha256:00"})
    parsed = parse_trailers(text)
    assert parsed.problems == () and parsed.action == "import"


def test_the_verifier_reports_names_outside_the_registry():
    assert "is not an action cmtool writes" in " ".join(
        parse_trailers("x\n\nCmtool-Action: teleport\nCmtool-Actor: ana\n").problems
    )
    assert parse_trailers("x\n\nCmtool-Action: file\nCmtool-Actor: a\nCmtool-Mood: ok\n").problems == (
        "unknown trailer 'Cmtool-Mood'",
    )


def test_an_import_leaves_audit_verify_clean(ws, cli, tmp_path):
    sheet = tmp_path / "sheet.csv"
    sheet.write_text(
        "Title,Customer,Channel,Received\n"
        "Kettle leaks,Ana Lima,phone,2025-11-03\n"
        "货物破损,王芳,web,2025-11-04\n",
        encoding="utf-8",
    )
    assert cli("import", str(sheet), cwd=ws, env={"CMTOOL_ACTOR": "alice"}).code == 0
    message = subprocess.run(
        ["git", "log", "-1", "--format=%B"], cwd=ws, capture_output=True, text=True, check=True
    ).stdout
    assert "Cmtool-Source: " in message
    verify = cli("audit", "verify", cwd=ws)
    assert verify.code == 0, verify.out
