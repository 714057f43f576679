"""Degrade, don't die: one broken or hand-edited case file is reported (path:line,
code) and skipped by `sla check`, `list`, `stats` and `report`, which go on with
every other case and exit 1; only a broken rules.yaml stops a sweep."""

from __future__ import annotations

import json

import pytest

from tests.conftest import git

NOW = "2025-11-21T17:30:00+08:00"


@pytest.fixture
def sample(tmp_path, cli):
    root = tmp_path / "sample"
    assert cli("init", "--sample", str(root)).code == 0
    return root


def findings(cli, root):
    result = cli("sla", "check", "--json", "--now", NOW, cwd=root)
    return result, json.loads(result.out)


@pytest.mark.parametrize("committed", [False, True], ids=["uncommitted edit", "committed edit"])
def test_a_broken_case_file_blinds_nothing(sample, cli, committed):
    before, rows = findings(cli, sample)
    assert before.code == 1
    listed = json.loads(cli("list", "--json", cwd=sample).out)
    victim = rows[0]["case_id"]
    rel = next(str(p.relative_to(sample)) for p in (sample / "cases").rglob(f"{victim}.yaml"))
    path = sample / rel
    lines = path.read_text(encoding="utf-8").splitlines()
    broken_line = len(lines) + 1
    path.write_text("\n".join(lines) + "\nstatus: [unclosed\n", encoding="utf-8")
    if committed:
        git(sample, "commit", "-qam", "hand edit")

    after, rows_after = findings(cli, sample)
    assert after.code == 1
    skipped = [r for r in rows_after if r["type"] == "skipped_file"]
    assert [(s["path"], s["code"]) for s in skipped] == [(rel, "CASE_YAML")]
    assert skipped[0]["line"] in (broken_line, broken_line + 1)
    others = [r for r in rows if r["case_id"] != victim]
    assert [r for r in rows_after if r["type"] == "clock"] == others
    assert f"skipped {rel}:" in after.err

    jsonl = cli("sla", "check", "--jsonl", "--now", NOW, cwd=sample)
    records = [json.loads(line) for line in jsonl.out.splitlines()]
    assert [r["path"] for r in records if r["type"] == "skipped_file"] == [rel]
    assert records[-1]["skipped_files"] == 1 and records[-1]["cases"] >= len({r["case_id"] for r in others})

    listing = cli("list", "--json", cwd=sample)
    assert listing.code == 1 and f"skipped {rel}:" in listing.err
    assert json.loads(listing.out) == [r for r in listed if r["id"] != victim]

    stats = cli("stats", "--json", "--now", NOW, cwd=sample)
    assert stats.code == 1
    assert [s["path"] for s in json.loads(stats.out)["skipped_files"]] == [rel]

    report = cli("report", "compliance", "--period", "2025-10", "--now", NOW, cwd=sample)
    assert report.code == 1, report.err
    assert report.out.strip() and f"skipped {rel}:" in report.err

    validated = cli("validate", cwd=sample)
    assert validated.code == 1 and f"{rel}:" in validated.out
    fix = "git checkout -- " if not committed else "git log -- "
    assert fix + rel in validated.err


def test_a_broken_rules_file_stops_the_sweep(sample, cli):
    rules = sample / "rules.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\nsla: [\n", encoding="utf-8")
    result = cli("sla", "check", "--jsonl", "--now", NOW, cwd=sample)
    assert result.code == 2
    assert "rules.yaml" in result.err and result.out == ""
