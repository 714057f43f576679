"""`list` as people and pipes read it: a table that fits the terminal, tab-separated
lines when piped, filters on every field a team asks for, saved views, --version and
shell completion."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

import cmtool

CASES = (
    # title, channel, customer, product, region, filed at
    (
        "Charger overheats after two days",
        "phone",
        "张强",
        "X1 charger",
        "Shanghai",
        "2025-11-03T09:00:00+08:00",
    ),
    (
        "Refund never arrived for order 7781",
        "email",
        "Margaret Evans",
        "Online store",
        "London",
        "2025-11-10T10:00:00+00:00",
    ),
    ("宽带安装师傅三次迟到", "app", "李伟", "Broadband", "Beijing", "2025-11-20T15:00:00+08:00"),
)


@pytest.fixture
def filed(ws, cli) -> dict[str, str]:
    """title -> ID of three cases filed at their own times."""
    ids = {}
    for title, channel, customer, product, region, at in CASES:
        done = cli(
            "file",
            "--title",
            title,
            "--channel",
            channel,
            "--customer",
            customer,
            "--product",
            product,
            "--region",
            region,
            "--now",
            at,
            cwd=ws,
        )
        assert done.code == 0, done.err
        ids[title] = done.out.strip()
    return ids


def display_width(line: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in line)


def run_in_terminal(args: list[str], cwd: Path, columns: int) -> str:
    """The real CLI on a pseudo-terminal of ``columns`` columns, as a person sees it."""
    env = {**os.environ, "COLUMNS": str(columns), "LINES": "50", "TERM": "xterm"}
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cmtool", *args],
        cwd=cwd,
        env=env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    text = b"".join(chunks).decode("utf-8").replace("\r\n", "\n")
    return re.sub(r"\x1b\[[0-9;]*m", "", text)  # bold headers: styles, not text


def test_piped_list_is_one_tab_separated_line_per_case(ws, cli, filed):
    out = cli("list", cwd=ws).out
    header, *lines = out.splitlines()
    assert header.split("\t")[:3] == ["id", "status", "priority"]
    assert len(lines) == 3 and all(len(line.split("\t")) == len(header.split("\t")) for line in lines)
    # `cmtool list | grep 张强` finds the case, and `cut -f1` gives its ID.
    grep = subprocess.run(["grep", "张强"], input=out, capture_output=True, text=True)
    assert grep.stdout.split("\t")[0] == filed[CASES[0][0]]
    # --json stays explicit and whole.
    import json

    assert [row["id"] for row in json.loads(cli("list", "--json", cwd=ws).out)] == sorted(filed.values())


@pytest.mark.parametrize("columns", [80, 120])
def test_terminal_table_fits_the_width_with_short_ids_that_work(ws, cli, filed, columns):
    screen = run_in_terminal(["list"], ws, columns)
    lines = [line for line in screen.splitlines() if line.strip()]
    assert lines[0].split()[0] == "id" and "title" in lines[0]
    assert len(lines) == 4, screen
    assert all(display_width(line) <= columns for line in lines), screen
    shown = [line.split()[0] for line in lines[1:]]
    for prefix in shown:
        assert len(prefix) < 16 and any(case_id.startswith(prefix) for case_id in filed.values())
        assert cli("show", prefix, cwd=ws).code == 0
    if columns == 80:
        assert "customer" not in lines[0]  # dropped first to make room for the title


def test_filters_on_every_field(ws, cli, filed):
    first, second, third = (filed[c[0]] for c in CASES)
    assert cli("edit", first, "--tags", "safety-risk,recall", cwd=ws).code == 0

    def ids(*args):
        done = cli("list", "--json", *args, cwd=ws)
        assert done.code == 0, done.err
        import json

        return [row["id"] for row in json.loads(done.out)]

    assert ids("--customer", "margaret") == [second]  # part of the name, any case
    assert ids("--customer", "张") == [first]
    assert ids("--product", "charger,broadband") == [first, third]
    assert ids("--region", "London") == [second]
    assert ids("--tag", "recall") == [first]
    assert ids("--filed-since", "2025-11-10") == [second, third]
    assert ids("--filed-since", "2025-11-04", "--filed-until", "2025-11-19") == [second]
    assert ids("--sort", "-filed_at", "--limit", "1") == [third]
    assert ids("--closed-since", "2025-01-01") == []
    assert cli("list", "--filed-since", "yesterday", cwd=ws).code == 2
    assert cli("list", "--sla", "late", cwd=ws).code == 2


def test_saved_views_run_with_me_and_are_checked(ws, cli, filed):
    first, second, _third = (filed[c[0]] for c in CASES)
    assert cli("assign", first, "--to", "alice", cwd=ws).code == 0
    assert cli("assign", second, "--to", "bob", cwd=ws).code == 0
    rules = ws / "rules.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "\nviews:\n" in text  # the bundled rules.yaml shows examples
    rules.write_text(
        text.replace("\nviews:\n", "\nviews:\n  mine:\n    assignee: $ME\n    status: open\n"),
        encoding="utf-8",
    )
    done = cli("list", "@mine", "--actor", "bob", "--json", cwd=ws)
    assert done.code == 0, done.err
    assert [row["id"] for row in __import__("json").loads(done.out)] == [second]
    # An option given on the command line overrides the view's.
    done = cli("list", "@mine", "--actor", "bob", "--assignee", "alice", "--json", cwd=ws)
    assert [row["id"] for row in __import__("json").loads(done.out)] == [first]
    missing = cli("list", "@nobody", cwd=ws)
    assert missing.code == 2 and "@mine" in missing.err
    # A typo in a view is a rules.yaml problem with its line.
    text = rules.read_text(encoding="utf-8").replace("    status: open\n", "    statsu: open\n")
    rules.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    statsu: open") + 1
    checked = cli("validate", cwd=ws)
    assert checked.code == 1 and f"rules.yaml:{line}:" in checked.out + checked.err


def test_version_and_completion(ws, cli, filed):
    version = cli("--version")
    assert version.code == 0 and version.out.strip() == f"cmtool {cmtool.__version__}"
    assert cli("list", cwd=ws).code == 0  # the index now knows the cases
    env = {"_CMTOOL_COMPLETE": "complete_bash", "COMP_WORDS": "cmtool show C-2511", "COMP_CWORD": "2"}
    done = subprocess.run(
        [sys.executable, "-m", "cmtool"], cwd=ws, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert sorted(done.stdout.split()) == sorted(i for i in filed.values() if i.startswith("C-2511"))
    assert cli("assign", next(iter(filed.values())), "--to", "alice", cwd=ws).code == 0
    assert cli("list", cwd=ws).code == 0
    env = {"_CMTOOL_COMPLETE": "complete_bash", "COMP_WORDS": "cmtool assign X --to al", "COMP_CWORD": "4"}
    done = subprocess.run(
        [sys.executable, "-m", "cmtool"], cwd=ws, env={**os.environ, **env}, capture_output=True, text=True
    )
    assert done.stdout.split() == ["alice"]
