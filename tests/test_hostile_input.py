"""Hostile values at input: forged IDs, absurd numbers, control characters.

Nothing a command accepts may leave a case that cmtool then refuses, no path is
built from an ID that is not one, and no newline forges a commit trailer.
"""

from __future__ import annotations

import math
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from audit_helpers import Clock, ctx
from conftest import git
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_survey import closed_case

from cmtool.errors import CmtoolError, DataError
from cmtool.services import lifecycle
from cmtool.store.casefiles import check_file, load_case
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load, roundtrip_dump
from cmtool.store.yamlstyle import dump


def _filed(cli, ws: Path) -> str:
    done = cli("file", "--title", "Charger overheats", "--channel", "phone", cwd=ws)
    assert done.code == 0, done.err
    return done.out.strip()


def _trailers(ws: Path, key: str) -> list[str]:
    out = git(ws, "log", f"--format=%(trailers:key={key},valueonly)")
    return [line for line in out.splitlines() if line.strip()]


# -- item: paths built from data ---------------------------------------------------


def test_case_paths_are_built_from_ids_only(tmp_path):
    ws = Workspace(tmp_path)
    assert ws.case_relpath("C-251121-QA7S19K") == "cases/2025/11/C-251121-QA7S19K.yaml"
    for forged in ("../../../../tmp/x", "C-251121-../../x", "C-251121-QA7S19K/../../x", ""):
        with pytest.raises(DataError):
            ws.case_relpath(forged)


def test_a_forged_id_never_names_a_file_outside_the_folder(cli, ws, tmp_path):
    case_id = closed_case(cli, ws, "Ann Lee", "ann@example.com", 3)
    real = next(ws.glob(f"cases/*/*/{case_id}.yaml"))
    out = tmp_path / "out"
    escape = tmp_path / "escaped"
    forged_ids = {
        "C-251103-ZZZZZZZ.yaml": os.path.relpath(escape, out),  # ../escaped
        "C-251103-YYYYYYY.yaml": "C-251103-XXXXXXX",  # a real-looking ID, but not this file's
    }
    for name, forged in forged_ids.items():
        real.with_name(name).write_text(real.read_text().replace(f"id: {case_id}", f"id: {forged}"))
    git(ws, "add", "cases")
    git(ws, "commit", "-qm", "planted")
    done = cli("survey", "due", "--render", str(out), "--now", "2025-11-05T09:00:00+08:00", cwd=ws)
    assert done.code in (0, 1, 2) and "internal error" not in done.err, done.err
    assert not list(tmp_path.glob("escaped*"))
    assert {p.name for p in out.iterdir()} <= {f"{case_id}.txt"} if out.exists() else True
    checked = cli("validate", cwd=ws)
    assert checked.code == 1
    assert "C-251103-ZZZZZZZ.yaml:1: CASE_BAD_ID" in checked.out
    assert "C-251103-YYYYYYY.yaml:1: CASE_WRONG_PATH" in checked.out


# -- item: non-finite and absurd numbers ---------------------------------------------


@pytest.mark.parametrize("redress", ["nan", "inf", "-inf", "1e308", "1e13"])
def test_absurd_redress_is_refused_and_the_case_stays_usable(cli, ws, redress):
    case_id = _filed(cli, ws)
    before = git(ws, "rev-parse", "HEAD")
    refused = cli("resolve", case_id, "--resolution", "Refunded", "--redress", redress, cwd=ws)
    assert refused.code == 2 and "--redress" in refused.err, refused.err
    assert git(ws, "rev-parse", "HEAD") == before
    done = cli("resolve", case_id, "--resolution", "Refunded", "--redress", "20.5", cwd=ws)
    assert done.code == 0, done.err
    assert cli("validate", cwd=ws).code == 0


@pytest.mark.parametrize("number", [1e-05, 1e16, 1.5e-07, 123456.789, 10**12])
def test_numbers_are_written_so_they_read_back_as_numbers(number):
    """repr(1e-05) is "1e-05", which a YAML 1.1 reader takes for text: both writers
    (the fast one and ruamel's, for files with comments) write 1.0e-05."""
    for text in (dump({"redress": number}), roundtrip_dump({"redress": number})):
        assert load(text, "x.yaml") == {"redress": number}, text
    assert dump({"redress": 1e-05}) == "redress: 1.0e-05\n"


def test_a_hand_written_nan_is_a_data_error(cli, ws):
    case_id = _filed(cli, ws)
    path = next(ws.glob(f"cases/*/*/{case_id}.yaml"))
    path.write_text(path.read_text().replace("remedy: null", "remedy: null\nredress: .nan"))
    checked = cli("validate", cwd=ws)
    assert checked.code == 1 and "redress: nan is not a number" in checked.out


_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.sampled_from([0.1, 1e-05, 1e-300, 1e12, 1e12 + 1, 123456.789]),
)
_TEXT = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    field=st.sampled_from(["redress", "product", "customer", "region", "title", "description"]),
    number=_NUMBERS,
    text=_TEXT,
)
def test_every_value_an_action_accepts_validates_again(ws, field, number, text):
    """A property: whatever `edit` accepts is written so that it reads back the same
    and passes validate; whatever it refuses leaves no commit behind."""
    clock = getattr(test_every_value_an_action_accepts_validates_again, "clock", None) or Clock()
    test_every_value_an_action_accepts_validates_again.clock = clock
    cases = sorted(ws.glob("cases/*/*/*.yaml"))
    case_id = cases[0].stem if cases else lifecycle.file_case(ctx(ws, "alice", clock), {"title": "x"}).id
    value = number if field == "redress" else text
    head = git(ws, "rev-parse", "HEAD")
    try:
        lifecycle.edit(ctx(ws, "alice", clock), case_id, {field: value})
    except CmtoolError:
        assert git(ws, "rev-parse", "HEAD") == head
        return
    workspace = Workspace(ws)
    data, problems = check_file(workspace, workspace.case_path(case_id))
    assert problems == []
    stored = load_case(workspace, case_id)[0].state[field]
    if field == "redress":
        assert stored == value and math.isfinite(stored)
    else:
        assert stored.strip() == value.strip()


# -- item: control characters ---------------------------------------------------------


def test_single_line_fields_refuse_control_characters_at_input(cli, ws):
    case_id = _filed(cli, ws)
    head = git(ws, "rev-parse", "HEAD")
    attempts = [
        ("file", "--title", "x", "--product", "X1\x1b]0;pwned\x07"),
        ("file", "--title", "x", "--customer", "Ann\x1b[2J"),
        ("assign", case_id, "--to", "bob\nCmtool-Actor: mallory"),
        ("wait", case_id, "--reason", "parts\nCmtool-Case: C-251121-AAAAAAA"),
        ("edit", case_id, "--product", "X1\rCmtool-Actor: mallory"),
        ("note", case_id, "hello", "--actor", "mallory\nCmtool-Actor: dana"),
    ]
    for args in attempts:
        refused = cli(*args, cwd=ws)
        assert refused.code == 2, (args, refused.err)
        assert "line break" in refused.err or "control character" in refused.err, refused.err
    assert git(ws, "rev-parse", "HEAD") == head


def test_no_text_forges_a_commit_trailer(cli, ws, tmp_path):
    case_id = _filed(cli, ws)
    escalated = cli("escalate", case_id, "--to", "dana", "--reason", "urgent\nCmtool-Actor: mallory", cwd=ws)
    assert escalated.code == 0, escalated.err
    sheet = tmp_path / "complaints\nCmtool-Actor: mallory.csv"
    sheet.write_text("title,channel,received\nBroken charger,phone,2025-11-20\n", encoding="utf-8")
    imported = cli("import", str(sheet), cwd=ws)
    assert imported.code == 0, imported.err
    assert "mallory" not in _trailers(ws, "Cmtool-Actor")
    assert git(ws, "log", "--grep=^Cmtool-Actor: mallory") == ""
    assert "import complaints\\nCmtool-Actor: mallory.csv" in git(ws, "log", "-1", "--format=%s")


def _in_terminal(args: list[str], cwd: Path) -> bytes:
    """Run the CLI with its stdout and stderr on a pseudo-terminal; what it wrote."""
    main, child = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmtool", *args], cwd=cwd, stdout=child, stderr=child, env=dict(os.environ)
    )
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=60)
    os.close(main)
    return b"".join(chunks)


def test_terminal_output_shows_control_characters_escaped(cli, ws):
    case_id = _filed(cli, ws)
    path = next(ws.glob(f"cases/*/*/{case_id}.yaml"))
    text = path.read_text().replace("product: null", 'product: "X1\\e]0;pwned\\a\\e[2J"')
    text = text.replace(
        "    channel: [null, phone]",
        '    channel: [null, phone]\n    product: [null, "X1\\e]0;pwned\\a\\e[2J"]',
    )
    path.write_text(text)
    git(ws, "commit", "-qam", "planted by another clone")
    checked = cli("validate", cwd=ws)
    assert checked.code == 1 and "product: contains a control character (U+001B)" in checked.out
    for args in (["history", case_id], ["validate"], ["show", case_id]):
        seen = _in_terminal(args, ws)
        assert b"\x1b" not in seen and b"\x07" not in seen, (args, seen[:300])
    assert b"X1\\x1b]0;pwned\\x07\\x1b[2J" in _in_terminal(["history", case_id], ws)
    piped = cli("history", case_id, cwd=ws)
    assert "\x1b]0;pwned" in piped.out  # a pipe gets the data as it is
