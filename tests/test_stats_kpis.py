"""KPIs against figures worked out by hand (see tests/report_fixture.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
from report_fixture import fixture_cases

from cmtool.reports.anomaly import category_alerts
from cmtool.reports.facts import case_facts, truncate
from cmtool.reports.figures import median, nps, percentile
from cmtool.reports.kpis import group_kpis, period_kpis, sla_compliance
from cmtool.reports.periods import parse_period
from cmtool.reports.timing import KpiCalendar

UTC = timezone.utc
AS_AT = datetime(2026, 4, 10, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def kpis():
    facts = [case_facts(c) for c in (truncate(c, AS_AT) for c in fixture_cases()) if c]
    period = parse_period("2026-03", UTC)
    return period_kpis(facts, period, AS_AT, KpiCalendar.fallback("UTC"), {})


def test_volumes(kpis):
    assert kpis["received"] == 3  # A, C, D
    assert kpis["open_at_start"] == 1  # B (F was closed in January)
    assert kpis["closed"] == 4  # closures: A, B, C (Mar 9) and C again (Mar 16)
    assert kpis["reopened_in_period"] == 1  # C on Mar 12
    assert kpis["closed_cases"] == 3
    assert kpis["open_at_end"] == 1  # D
    assert kpis["open_at_end"] == 1 + 3 + 1 - 4 and kpis["reconciles"]
    assert kpis["provisional"] is False
    assert kpis["period"]["start"] == "2026-03-01T00:00:00+00:00"
    assert kpis["as_at"] == "2026-04-01T00:00:00+00:00"


def test_response_and_resolution_times(kpis):
    # First responses made in March: A 2h, C 14h (B's was in February).
    assert kpis["first_response_hours"] == {"count": 2, "median": 8.0, "mean": 8.0, "p90": 14.0}
    assert kpis["first_response_business_hours"] == {
        "count": 2,
        "median": 1.5,
        "mean": 1.5,
        "p90": 2.0,
    }
    # Resolution per closure: A 25h, B 674h, C 91h (Thu 20:00 -> Mon 15:00) and 253h;
    # business A 10, B 182, C 15 (Fri 9 + Mon 6) and 54. Median of four: the mean of
    # the middle two; p90: the 4th of 4 (nearest rank).
    assert kpis["resolution_hours"] == {"count": 4, "median": 172.0, "mean": 260.75, "p90": 674.0}
    assert kpis["resolution_business_hours"] == {
        "count": 4,
        "median": 34.5,
        "mean": 65.25,
        "p90": 182.0,
    }
    assert kpis["resolution_unknown"] == 0


def test_rates(kpis):
    def of_four(count: int) -> dict:
        return {"count": count, "known": 4, "unknown": 0, "rate": count / 4}

    # A (Mar 3) and C's first closure (Mar 9; deadline Wed Mar 11 18:00) are within.
    assert kpis["closed_within_3_business_days"] == of_four(2)
    assert kpis["closed_within_8_weeks"] == of_four(4)
    assert kpis["escalated"] == of_four(1)  # B, escalated Mar 10 before its closure
    assert kpis["escalations_in_period"] == 1
    assert kpis["reopened"] == of_four(1)  # C's second closure came after a reopen
    assert kpis["first_contact_resolution"] == of_four(1)  # A (C waited, B escalated)
    # Only B says whether it was upheld: A and C are unknown, not "not upheld".
    assert kpis["upheld"] == {"count": 1, "known": 1, "unknown": 3, "rate": 1.0}
    # B's 50 has no currency (the test gives no default); C's 800 is in CNY: two totals.
    assert kpis["redress"] == [
        {"currency": "", "amount": 50.0, "cases": 1},
        {"currency": "CNY", "amount": 800.0, "cases": 1},
    ]
    assert kpis["redress_total"] is None  # never a sum of two currencies


def test_surveys_repeats_and_tops(kpis):
    surveys = kpis["surveys"]
    assert surveys["answered"] == 2
    assert surveys["csat_average"] == 3.5  # (5 + 2) / 2
    assert surveys["nps"] == 0.0  # one promoter (10), one detractor (5)
    assert (surveys["promoters"], surveys["passives"], surveys["detractors"]) == (1, 0, 1)
    assert surveys["response_rate"] == 0.75  # closures of answered cases: A, C, C of 4
    assert kpis["repeat_complaints"] == {
        "count": 1,
        "known": 3,
        "unknown": 0,
        "rate": round(1 / 3, 4),
        "customers": 1,
    }
    assert kpis["top_categories"][0] == {"key": "billing", "count": 2, "share": round(2 / 3, 4)}
    assert kpis["top_root_causes"] == [{"key": "packaging", "count": 2, "share": 1.0}]


def test_group_by_category():
    facts = [case_facts(c) for c in (truncate(c, AS_AT) for c in fixture_cases()) if c]
    rows = group_kpis(facts, "category", parse_period("2026-03", UTC), AS_AT, KpiCalendar.fallback("UTC"))
    assert [(r["key"], r["received"], r["closed"], r["open_at_end"]) for r in rows] == [
        ("billing", 2, 3, 0),
        ("logistics", 1, 1, 1),
    ]


def test_a_report_on_a_past_period_ignores_later_events():
    # As at 2026-03-10, C was resolved (Mar 9) and not yet reopened; B was open.
    moment = datetime(2026, 3, 10, tzinfo=UTC)
    facts = [case_facts(c) for c in (truncate(c, moment) for c in fixture_cases()) if c]
    kpis = period_kpis(facts, parse_period("2026-03", UTC), moment, KpiCalendar.fallback("UTC"))
    assert kpis["closed"] == 2 and kpis["reopened"]["count"] == 0
    assert kpis["open_at_end"] == 1  # B


@dataclass
class Clock:
    clock: str
    state: str
    stopped_at: str | None


def test_sla_compliance_counts_clocks_stopped_in_the_period():
    facts = [case_facts(c) for c in fixture_cases()]
    clocks = {
        facts[0].id: [
            Clock("first_response", "met", "2026-03-02T11:00:00+00:00"),
            Clock("resolution", "missed", "2026-03-03T10:00:00+00:00"),
        ],
        facts[1].id: [
            Clock("first_response", "met", "2026-02-23T09:30:00+00:00"),
            Clock("resolution", "breached", None),
        ],
    }
    period = parse_period("2026-03", UTC)
    rows = sla_compliance(facts, clocks, period.start, period.end)
    assert rows == [
        {"clock": "first_response", "met": 1, "missed": 0, "compliance": 1.0, "breached_open": 0},
        {"clock": "resolution", "met": 0, "missed": 1, "compliance": 0.0, "breached_open": 1},
    ]


def test_statistics_definitions():
    assert median([3, 1, 2]) == 2 and median([1, 2, 3, 4]) == 2.5 and median([]) is None
    assert percentile(list(range(1, 11)), 0.9) == 9  # nearest rank: 9th of 10
    assert percentile([5], 0.9) == 5
    assert nps([10, 9, 8, 7, 0]) == 20.0  # 2 promoters, 1 detractor of 5


def test_anomaly_alert_uses_history_of_previous_periods():
    from report_fixture import build, filed

    cases = []
    for month in range(1, 7):  # 2 complaints a month, January to June
        for day in (3, 4):
            cases.append(
                build(
                    f"C-26{month:02d}{day:02d}-X{month:05d}{day}",
                    [filed(f"2026-{month:02d}-{day:02d}T10:00:00", category="billing")],
                )
            )
    for day in range(1, 13):  # then 12 in July
        cases.append(
            build(
                f"C-2607{day:02d}-Y{day:06d}",
                [filed(f"2026-07-{day:02d}T10:00:00", category="billing")],
            )
        )
    facts = [case_facts(c) for c in cases]
    alerts = category_alerts(facts, parse_period("2026-07", UTC))
    # baseline 2, spread max(0, sqrt(2), 1) = 1.414..., z = (12 - 2) / 1.414 = 7.07
    assert alerts == [
        {
            "key": "billing",
            "count": 12,
            "baseline": 2.0,
            "spread": 1.41,
            "z": 7.07,
            "history": [2] * 6,
            "history_periods": [f"2026-{m:02d}" for m in range(1, 7)],
        }
    ]
    assert category_alerts(facts, parse_period("2026-06", UTC)) == []  # 2 is usual


def test_kpis_count_business_time_on_the_sla_default_calendar(tmp_path):
    """``sla.calendar`` names the calendar KPIs count on, wherever it stands among the calendars."""
    from cmtool.rules.loader import load_rules
    from cmtool.services.reporting import kpi_calendar
    from tests.conftest import put_rules_sections

    rules = tmp_path / "rules.yaml"
    rules.write_text((Path(__file__).resolve().parent.parent / "rules.yaml").read_text(encoding="utf-8"))
    now = datetime(2025, 11, 21, tzinfo=timezone.utc)
    assert kpi_calendar(load_rules(rules), now).calendar.spec.name == "cn_business"
    text = rules.read_text(encoding="utf-8")
    second = next(name for name in load_rules(rules).calendars.specs if name != "cn_business")
    put_rules_sections(
        rules,
        text[text.index("\nsla:\n") + 1 :]
        .split("\n# ---")[0]
        .replace("calendar: cn_business", f"calendar: {second}", 1),
    )
    assert kpi_calendar(load_rules(rules), now).calendar.spec.name == second
