"""Templates are hostile input: they read only files really inside their folder,
and a rendering has limits on work, size and time."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.test_survey import closed_case

LATER = {"CMTOOL_NOW": "2025-12-02T17:30:00+08:00"}
SECRET = "TOP-SECRET-LINE"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "outside" / "secret.txt"
    path.parent.mkdir()
    path.write_text(f"{SECRET}\n")
    return path


def custom_report(ws: Path, name: str, body: str) -> Path:
    """A copy of the compliance report whose Markdown template is ``body``."""
    folder = ws / "templates" / "reports" / name
    shutil.copytree(ws / "templates" / "reports" / "compliance", folder)
    (folder / "report.md.j2").write_text(body)
    return folder


def report(cli, ws: Path, name: str):
    return cli("report", name, "--period", "2025-11", cwd=ws, env=LATER)


def test_an_include_through_a_symlink_out_of_the_folder_is_refused(ws, cli, secret):
    folder = custom_report(ws, "evil", '{% include "passwd" %}\n')
    os.symlink(secret, folder / "passwd")
    done = report(cli, ws, "evil")
    assert done.code == 2
    assert "report.md.j2:1: template 'passwd' refused: links outside its template folder" in done.err
    assert SECRET not in done.out + done.err
    # The same include of a real file in the folder works.
    (folder / "passwd").unlink()
    (folder / "passwd").write_text("just text\n")
    assert report(cli, ws, "evil").out == "just text\n"


def test_a_report_template_linked_out_of_the_folder_is_refused(ws, cli, secret):
    folder = custom_report(ws, "evil", "unused\n")
    (folder / "report.md.j2").unlink()
    os.symlink(secret, folder / "report.md.j2")
    done = report(cli, ws, "evil")
    assert done.code == 2 and SECRET not in done.out + done.err
    assert "refused" in done.err


def test_a_report_folder_linked_out_of_the_workspace_is_refused(ws, cli, secret):
    outside = secret.parent / "report"
    shutil.copytree(ws / "templates" / "reports" / "compliance", outside)
    (outside / "report.md.j2").write_text("{{ '" + SECRET + "' }}\n")
    os.symlink(outside, ws / "templates" / "reports" / "linked")
    done = report(cli, ws, "linked")
    assert done.code == 2
    assert "templates/reports/linked: a symbolic link out of the workspace" in done.err
    assert SECRET not in done.out


def test_a_message_template_linked_out_is_refused(ws, cli, secret):
    closed_case(cli, ws, "Ann Lee", "ann@example.com", 3)
    template = ws / "templates" / "messages" / "survey_invitation.txt.j2"
    template.unlink()
    os.symlink(secret, template)
    done = cli("survey", "due", "--render", "-", cwd=ws, env={"CMTOOL_NOW": "2025-11-05T09:00:00+08:00"})
    assert done.code == 2
    assert "survey_invitation.txt.j2' refused" in done.err
    assert SECRET not in done.out + done.err


def test_a_message_folder_linked_out_is_refused(ws, cli, secret):
    closed_case(cli, ws, "Ann Lee", "ann@example.com", 3)
    messages = ws / "templates" / "messages"
    shutil.copytree(messages, secret.parent / "messages")
    shutil.rmtree(messages)
    os.symlink(secret.parent / "messages", messages)
    done = cli("survey", "due", "--render", "-", cwd=ws, env={"CMTOOL_NOW": "2025-11-05T09:00:00+08:00"})
    assert done.code == 2
    assert "templates/messages: a symbolic link out of the workspace" in done.err


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
            "loops over range() would take more than 1,000,000 steps",
        ),
        ("{{ 9**(9**9) }}", "9 ** 387420489 is too big a number"),
        ('{{ "x" * 10**10 }}', "repeating a text or list 10000000000 times"),
        ('{{ ("x" * 1000) * 100000 }}', "repeating a text or list 100000 times"),
        ('{{ "x" | center(10**9) }}', "1000000000 is too big an argument"),
        ('{{ "%999999999d" % 1 }}', "a format width of 999999999"),
        ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "calls nest too deep"),
        ('{% for i in range(100000) %}{{ "y" * 5000000 }}{% endfor %}', "output is bigger than 100,000,000"),
    ],
)
def test_runaway_templates_stop_with_a_clear_error(ws, cli, body, message):
    custom_report(ws, "runaway", body + "\n")
    done = report(cli, ws, "runaway")  # the fixture's subprocess timeout catches a hang
    assert done.code == 2, done.err
    # Named by file (and line, where one statement is to blame).
    where = re.search(r"templates/reports/runaway/report\.md\.j2(:1)?: template stopped: (.*)", done.err)
    assert where and where[2].startswith(message), done.err


def test_ordinary_arithmetic_and_padding_still_work(ws, cli):
    custom_report(ws, "fine", '{{ 2**10 }} {{ "ab" * 3 }} {{ 20000000 | num }} {{ "%05d" | format(42) }}\n')
    done = report(cli, ws, "fine")
    assert done.code == 0, done.err
    assert done.out == "1024 ababab 20,000,000 00042\n"
