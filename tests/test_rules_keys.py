"""rules.yaml typos are errors, in validate and in every command that reads the rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmtool.rules.build import KNOWN_SECTIONS
from cmtool.rules.keys import SECTION_KEYS, SELF_CHECKED
from tests.conftest import git


def edit_rules(ws: Path, old: str, new: str) -> int:
    """Replace ``old`` by ``new`` in rules.yaml, commit, return the line of ``new``."""
    path = ws / "rules.yaml"
    text = path.read_text()
    assert old in text, old
    text = text.replace(old, new, 1)
    path.write_text(text)
    git(ws, "commit", "-qam", "edit rules")
    first = new.strip().splitlines()[0]
    return next(n for n, line in enumerate(text.splitlines(), 1) if first in line)


def problems(cli, ws: Path) -> str:
    done = cli("validate", cwd=ws)
    assert done.code == 1, done.out + done.err
    return done.out


@pytest.mark.parametrize(
    ("old", "new", "key", "hint"),
    [
        # The critical 2 h policy would apply to every case.
        (
            "      when: {priority: [critical]}\n",
            "      wen: {priority: [critical]}\n",
            "sla.policies[0].wen",
            "when",
        ),
        (
            "    timezone: Asia/Shanghai\n",
            "    timezon: Asia/Shanghai\n",
            "calendars.cn_business.timezon",
            "timezone",
        ),
        ("    set: critical\n", "    sett: critical\n", "priority_rules[0].sett", "set"),
        (
            "    label: Product quality\n",
            "    lable: Product quality\n",
            "categories.product_quality.lable",
            "label",
        ),
        (
            "holidays: {country: CN}",
            "holidays: {country: CN, subdivision: BJ}",
            "holidays.subdivision",
            "subdiv",
        ),
    ],
)
def test_a_misspelt_key_is_an_error_with_its_line(ws, cli, old, new, key, hint):
    line = edit_rules(ws, old, new)
    reported = [row for row in problems(cli, ws).splitlines() if "RULES_UNKNOWN_KEY" in row]
    assert len(reported) == 1, reported
    assert reported[0].startswith(f"rules.yaml:{line}: RULES_UNKNOWN_KEY ")
    assert key in reported[0] and f"did you mean {hint!r}?" in reported[0]
    # Every command reading the rules refuses them too, instead of acting on the typo.
    filed = cli("file", "--title", "Charger caught fire", cwd=ws)
    assert filed.code == 2 and "RULES_UNKNOWN_KEY" in filed.err
    assert cli("sla", "check", cwd=ws).code == 2


def test_the_critical_policy_no_longer_applies_to_every_case_through_a_typo(ws, cli):
    edit_rules(ws, "      when: {priority: [critical]}\n", "      wen: {priority: [critical]}\n")
    assert cli("file", "--title", "Invoice question", "--priority", "low", cwd=ws).code == 2
    assert not list((ws / "cases").rglob("*.yaml"))


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "{}\n"])
def test_an_empty_rules_file_is_an_error(ws, cli, text):
    (ws / "rules.yaml").write_text(text)
    git(ws, "commit", "-qam", "empty the rules")
    assert "rules.yaml:1: RULES_EMPTY is empty" in problems(cli, ws)
    filed = cli("file", "--title", "Charger broke", cwd=ws)
    assert filed.code == 2 and "RULES_EMPTY" in filed.err


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("resolution: 10bd", "resolution: 99999999bd", "'99999999bd': a target is at most 2610bd"),
        ("after: 4h", "after: 999999999h", "'999999999h': a target is at most 87840h"),
    ],
)
def test_targets_and_delays_are_capped(ws, cli, old, new, message):
    line = edit_rules(ws, old, new)
    assert f"rules.yaml:{line}: RULES_INVALID" in problems(cli, ws)
    assert message in problems(cli, ws)
    done = cli("sla", "check", cwd=ws)
    assert done.code == 2 and message in done.err  # was a crash (exit 70)


def test_survey_delays_are_capped(ws, cli):
    line = edit_rules(ws, "  delay_hours: 24\n", "  delay_hours: 99999999999\n")
    message = "survey.delay_hours: 99999999999 is not a number from 0 to 87840"
    assert f"rules.yaml:{line}: RULES_INVALID {message}" in problems(cli, ws)
    done = cli("survey", "due", cwd=ws)
    assert done.code == 2 and message in done.err


def test_every_command_refuses_an_unknown_holiday_subdivision_as_validate_does(ws, cli):
    line = edit_rules(ws, "holidays: {country: GB, subdiv: ENG}", "holidays: {country: GB, subdiv: XYZ}")
    assert f"rules.yaml:{line}: RULES_INVALID calendars.uk_business.holidays.subdiv" in problems(cli, ws)
    for args in (["sla", "check", "--apply"], ["file", "--title", "Charger broke"], ["sla", "check"]):
        done = cli(*args, cwd=ws)
        assert done.code == 2, (args, done.out, done.err)
        assert "'XYZ' is not a subdivision of GB" in done.err
    # Once fixed, commands run again (the verdict is remembered per version of the file).
    edit_rules(ws, "subdiv: XYZ}", "subdiv: ENG}")
    assert cli("file", "--title", "Charger broke", cwd=ws).code == 0
    assert cli("sla", "check", "--apply", cwd=ws).code in (0, 1)


def test_every_section_has_its_keys_declared():
    declared = {pattern.split(".")[0].removesuffix("[]") for pattern in SECTION_KEYS}
    assert not KNOWN_SECTIONS - declared - SELF_CHECKED


def test_a_key_without_a_line_of_its_own_does_not_stop_the_check():
    """A problem about a key the line map lacks (a key YAML wrote in another form) gets
    the nearest enclosing line, or none; before, the search for it never ended."""
    from cmtool.rules.checker import Checker

    checker = Checker({"sla": 3, "sla.policies": 4}, "rules.yaml")
    assert checker.line("sla.policies[2].when") == 4
    assert checker.line("nonsense") is None
    assert checker.line("other[1].key") is None
