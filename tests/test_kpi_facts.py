"""KPI facts in the index: `stats`, every report and the dashboard count from facts
kept per case file and rules, and say exactly what a full recomputation says.

The full recomputation is what `stats` and reports did before the index kept KPI
facts: every case open now or changed since the look-back start built from its
file, truncated to the report's moment, its facts and clocks computed afresh. It is
compared, figure by figure and row by row, with the indexed answer on a workspace
made by the benchmarks' generator: for a past month (many events after its end), the
month still running, a quarter, a moment inside the data (events "in the future"),
after new actions, after a rules.yaml change that keeps the facts (routing), after a
calendar fix that changes them, and after the index was dropped.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cmtool.reports.anomaly import HISTORY_PERIODS
from cmtool.reports.context import CaseRows, Provenance, build_context
from cmtool.reports.headline import TREND_PERIODS
from cmtool.reports.kpis import REPEAT_WINDOW, group_kpis, period_kpis
from cmtool.reports.periods import parse_period
from cmtool.services.kpi_source import facts_key
from cmtool.services.reporting import (
    clock_states,
    complaints,
    facts_at,
    kpi_calendar,
    kpi_inputs_for,
    snapshot,
    stats,
)
from cmtool.store.catalog import all_cases, first_filing
from cmtool.store.index import db_path
from cmtool.store.workspace import find_workspace
from tests.conftest import git

GENERATOR = Path(__file__).resolve().parents[1] / "benchmarks" / "generate.py"
END = datetime.fromisoformat("2025-11-20T18:00:00+08:00")
AFTER = END + timedelta(hours=16)  # the morning after the generated data ends


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """260 cases filed over the 240 days before END, some forced to stay open."""
    root = tmp_path_factory.mktemp("kpi") / "ws"
    made = subprocess.run(
        [sys.executable, str(GENERATOR), str(root), "--cases", "260", "--days", "240"]
        + ["--end", END.isoformat(), "--open-share", "0.1", "--seed", "7"],
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr[-500:]
    # Customers who complain again in October (repeat complaints), two of them under
    # FCA DISP with an upheld redress in sterling.
    earlier = sorted((root / "cases" / "2025" / "09").glob("*.yaml"))[:4]
    for number, path in enumerate(earlier):
        contact = re.search(r"(?m)^contact: (.*)$", path.read_text(encoding="utf-8")).group(1).strip("'\"")
        when = f"2025-10-{10 + number}T10:00:00+08:00"
        args = ["file", "--title", "Charger overheats again", "--channel", "phone", "--contact", contact]
        args += ["--regime", "fca_disp"] if number < 2 else []
        filed = cmtool(root, *args, "--json", "--now", when)
        if number < 2:
            later = f"2025-10-{12 + number}T15:00:00+08:00"
            resolve = ["resolve", json.loads(filed)["id"], "--resolution", "Refunded", "--upheld"]
            cmtool(root, *resolve, "--redress", "80 GBP", "--now", later)
    return root


def cmtool(root: Path, *args: str) -> str:
    env = {**os.environ, "CMTOOL_ACTOR": "omar"}
    done = subprocess.run(
        [sys.executable, "-m", "cmtool", *args], cwd=root, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, (args, done.stderr[-800:])
    return done.stdout


@pytest.fixture
def ws(generated, tmp_path) -> Path:
    root = tmp_path / "ws"
    subprocess.run(["git", "clone", "-q", str(generated), str(root)], check=True)
    for key, value in (("user.name", "Test Runner"), ("user.email", "runner@example.com")):
        git(root, "config", key, value)
    return root


def period_cases(ws, period) -> tuple[list, str | None]:
    """Every case a report on ``period`` can count, built from the index in full: those
    open now or changed since the trend and alert periods before it and 90 days of
    repeat complaints before those (as `stats` and reports read them before)."""
    lookback = period.shifted(-(max(TREND_PERIODS, HISTORY_PERIODS) + 1)).start - REPEAT_WINDOW
    return complaints(all_cases(ws, active_since=lookback, skip_broken=True)), first_filing(ws)


def full_stats(root: Path, now: datetime, period_text: str) -> dict:
    """`stats --by category` as it was computed before: every case in full."""
    ws = find_workspace(root)
    data = snapshot(ws, with_cases=False)
    calendar = kpi_calendar(data.rules, now)
    period = parse_period(period_text, calendar.zone)
    as_at = min(period.end, now)
    cases, first = period_cases(ws, period)
    facts, kept = facts_at(cases, as_at, data.rules)
    clocks = clock_states(kept, facts, data.rules, as_at, period.start)
    from cmtool.reports.anomaly import category_alerts

    result = period_kpis(facts, period, as_at, calendar, clocks)
    result["alerts"] = category_alerts(facts, period, first_filing=first)
    result["groups"] = group_kpis(facts, "category", period, as_at, calendar, clocks)
    return result


def indexed_stats(root: Path, now: datetime, period_text: str) -> dict:
    result = stats(find_workspace(root), now, period_text, by="category")
    for name in ("data_commit", "as_of", "by"):
        result.pop(name)
    return result


def contexts(root: Path, now: datetime, period_text: str) -> tuple[dict, dict]:
    """The report context from indexed facts, and from every case in full."""
    ws = find_workspace(root)
    data = snapshot(ws, with_cases=False)
    calendar = kpi_calendar(data.rules, now)
    period = parse_period(period_text, calendar.zone)
    as_at = min(period.end, now)
    trend_start = period.shifted(-TREND_PERIODS).start
    provenance = Provenance(None, None, False, "r", "t", "bundled", currency="CNY")

    def context(facts, clocks, first, **extra) -> dict:
        return build_context(
            "compliance", "T", facts, period, as_at, calendar, clocks, provenance, False, {}, first, **extra
        )

    inputs, first = kpi_inputs_for(ws, data, period, as_at, trend_start, wide=True)
    indexed = context(inputs.facts, inputs.clocks, first, history=inputs.history, details=inputs.details)
    cases, first = period_cases(ws, period)
    facts, kept = facts_at(cases, as_at, data.rules)
    full = context(facts, clock_states(kept, facts, data.rules, as_at, trend_start), first)
    return indexed, full


CHECKS = (
    (AFTER, "2025-10"),  # a past month: many cases changed after its end
    (AFTER, "2025-11"),  # the month still running
    (AFTER, "2025-Q3"),
    (datetime.fromisoformat("2025-09-17T11:30:00+08:00"), "2025-09"),  # events after "now"
    (datetime.fromisoformat("2025-09-17T11:30:00+08:00"), "2025-08"),
)


def assert_same_as_full(root: Path, checks=CHECKS) -> None:
    for now, period_text in checks:
        full = full_stats(root, now, period_text)
        assert indexed_stats(root, now, period_text) == full, (now, period_text)
        indexed, whole = contexts(root, now, period_text)
        for name in whole:
            assert _listed(indexed[name]) == _listed(whole[name]), (now, period_text, name)


def _listed(value):
    return list(value) if isinstance(value, CaseRows) else value


def test_indexed_figures_equal_the_full_recomputation(ws):
    full = full_stats(ws, AFTER, "2025-10")
    # The comparison is not empty: the month has every kind of figure.
    assert full["received"] > 20 and full["closed"] > 20 and full["open_at_start"] > 5
    assert full["repeat_complaints"]["count"] > 0 and any(c["breached_open"] for c in full["sla"])
    assert_same_as_full(ws)
    # Twice: the second time every figure comes from records already kept.
    assert_same_as_full(ws, CHECKS[:2])


def records(root: Path) -> list[tuple]:
    conn = sqlite3.connect(db_path(find_workspace(root)))
    try:
        return conn.execute("SELECT path, upto, blob, rules FROM kpi_facts ORDER BY path, upto").fetchall()
    finally:
        conn.close()


def test_after_new_actions_a_routing_change_and_a_calendar_fix(ws, cli):
    assert_same_as_full(ws, CHECKS[:1])
    before = records(ws)
    assert before and any(upto for _p, upto, _b, _r in before)  # cases as they stood at October's end

    # New actions: a note, a resolution and a reopen, as users make them.
    listed = cli("list", "--status", "in_progress", "--json", "--now", AFTER.isoformat(), cwd=ws)
    ids = [row["id"] for row in json.loads(listed.out)]
    late = (AFTER + timedelta(hours=1)).isoformat()
    closed = cli("list", "--status", "closed", "--json", cwd=ws)
    reopen_id = json.loads(closed.out)[-1]["id"]
    for args in (
        ("note", ids[0], "Called again", "--actor", "omar"),
        ("resolve", ids[1], "--resolution", "Refunded", "--actor", "omar"),
        ("reopen", reopen_id, "--reason", "Not fixed", "--actor", "omar"),
    ):
        done = cli(*args, "--now", late, cwd=ws)
        assert done.code == 0, done.err
    later = AFTER + timedelta(hours=3)
    assert_same_as_full(ws, [(later, "2025-11"), (later, "2025-10")])

    # Routing changes no fact: the records stay (same key), the answers stay equal.
    rules_path = ws / "rules.yaml"
    ws_rules = find_workspace(ws)
    key = facts_key(snapshot(ws_rules, with_cases=False).rules)
    text = rules_path.read_text(encoding="utf-8")
    assert "routing:" in text and "strategy: round_robin" in text
    rules_path.write_text(text.replace("strategy: round_robin", "strategy: least_load", 1), encoding="utf-8")
    assert facts_key(snapshot(ws_rules, with_cases=False).rules) == key
    assert_same_as_full(ws, [(later, "2025-10")])

    # A calendar fix: 2025-10-31 (a Friday in October's last week) becomes a holiday
    # of the calendar KPIs and clocks count on: records are derived again.
    text = rules_path.read_text(encoding="utf-8")
    assert "extra_holidays: [2025-12-31]" in text
    rules_path.write_text(
        text.replace("extra_holidays: [2025-12-31]", "extra_holidays: [2025-10-31, 2025-12-31]"),
        encoding="utf-8",
    )
    assert facts_key(snapshot(ws_rules, with_cases=False).rules) != key
    assert_same_as_full(ws, [(later, "2025-10"), (later, "2025-11")])
    assert {r for _p, _u, _b, r in records(ws)} - {key}


def test_a_dropped_index_rebuilds_and_says_the_same(ws, cli):
    first = cli("stats", "--period", "2025-10", "--json", "--now", AFTER.isoformat(), cwd=ws)
    assert first.code == 0, first.err
    db = db_path(find_workspace(ws))
    for leftover in db.parent.glob("index.sqlite*"):
        leftover.unlink()
    again = cli("stats", "--period", "2025-10", "--json", "--now", AFTER.isoformat(), cwd=ws)
    assert again.code == 0, again.err
    assert json.loads(again.out) == json.loads(first.out)
    report = cli("report", "compliance", "--period", "2025-10", "--now", AFTER.isoformat(), cwd=ws)
    assert report.code == 0, report.err
    assert records(ws)


def test_on_the_real_clock(ws, cli, monkeypatch):
    """Without --now: the month running now, as the full recomputation counts it."""
    monkeypatch.delenv("CMTOOL_NOW")
    done = cli("stats", "--by", "category", "--json", cwd=ws)
    assert done.code == 0, done.err
    shown = json.loads(done.out)
    now = datetime.now().astimezone()
    full = full_stats(ws, now, shown["period"]["label"])
    assert shown["received"] == full["received"] and shown["open_at_end"] == full["open_at_end"]
    assert [g["key"] for g in shown["groups"]] == [g["key"] for g in full["groups"]]


def test_case_rows_are_built_a_chunk_at_a_time():
    """The rows a report lists are built when read, 500 at a time, each chunk once
    even when two readers go through them side by side (as the Excel writer does)."""
    built: list[int] = []

    def build(some):
        built.append(len(some))
        return [n * 2 for n in some]

    rows = CaseRows(list(range(1234)), build)
    assert len(rows) == 1234 and not built  # counting them builds nothing
    assert [a for a, b in zip(rows, iter(rows), strict=True) if a == b] == [n * 2 for n in range(1234)]
    assert built == [500, 500, 234]
    assert rows[-1] == 2466 and rows[3:6] == [6, 8, 10] and rows[1000] == 2000
    with pytest.raises(IndexError):
        rows[1234]
