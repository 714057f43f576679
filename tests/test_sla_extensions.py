"""Time-bound extensions and holding replies through the real CLI, and the
per-clock counting options of rules.yaml. Deadlines are hand-computed (see
tests/test_sla_rule_table.py for the reasoning of the same dates)."""

from __future__ import annotations

import json
import textwrap

from cmtool.rules.loader import check_rules
from tests.conftest import git

PAY = "fca_disp_payments"
# Received Wed 19 Nov 2025 18:30 London: 15 business days end Wed 10 Dec 23:59:59;
# 35 business days end Mon 12 Jan 2026 23:59:59 (Christmas, Boxing Day, New Year off).
PAY_FILED = "2025-11-19T18:30:00+00:00"
PAY_DUE = "2025-12-10T23:59:59+00:00"
PAY_EXTENDED = "2026-01-12T23:59:59+00:00"


def run(cli, ws, *args, now=None, actor="alice"):
    extra = ("--now", now) if now else ()
    return cli(*args, "--actor", actor, *extra, cwd=ws)


def file_case(cli, ws, regime, now):
    result = run(cli, ws, "file", "--title", "card payment refused", "--regime", regime, now=now)
    assert result.code == 0, result.err
    return result.out.strip()


def clocks(cli, ws, case_id, now):
    shown = json.loads(cli("show", case_id, "--json", "--now", now, cwd=ws).out)
    return {c["clock"]: c for c in shown["clocks"]}


def commit_count(ws) -> int:
    return int(git(ws, "rev-list", "--count", "HEAD").strip())


def audit_clean(cli, ws):
    result = cli("audit", "verify", cwd=ws)
    assert result.code == 0, result.out + result.err


def test_late_payments_extension_is_refused_then_recorded_without_hiding_the_breach(ws, cli):
    case_id = file_case(cli, ws, PAY, PAY_FILED)
    before = commit_count(ws)
    extend = ("sla", "extend", case_id, "--clock", f"{PAY}.final_response", "--reason", "card scheme")
    refused = run(cli, ws, *extend, now="2025-12-11T09:00:00+00:00")
    assert refused.code == 4
    assert PAY_DUE in refused.err and "--late" in refused.err and "Traceback" not in refused.err
    assert commit_count(ws) == before  # nothing written
    late = run(cli, ws, *extend, "--late", now="2025-12-11T09:00:00+00:00")
    assert late.code == 0, late.err
    assert "late" in late.out and PAY_DUE in late.out
    # No holding reply yet: the reminder says when it was due.
    assert f"a holding reply is due by {PAY_DUE}" in late.err

    check = cli("sla", "check", "--json", "--now", "2025-12-11T12:00:00+00:00", cwd=ws)
    assert check.code == 1
    found = {row["clock"]: row for row in json.loads(check.out)}
    original = found[f"{PAY}.final_response"]
    assert (original["state"], original["due_at"]) == ("breached", PAY_DUE)
    assert original["extended_due_at"] == PAY_EXTENDED
    assert found[f"{PAY}.holding_reply"]["state"] == "breached"
    shown = clocks(cli, ws, case_id, "2025-12-11T12:00:00+00:00")
    beside = shown[f"{PAY}.final_response.extension1"]
    assert (beside["state"], beside["due_at"], beside["extends"]) == (
        "ok",
        PAY_EXTENDED,
        f"{PAY}.final_response",
    )

    # A holding reply after the 15th business day: refused, then recorded as late.
    holding = ("note", case_id, "We need until 9 January: the card scheme has not answered.")
    refused = run(cli, ws, *holding, "--holding-reply", now="2025-12-11T13:00:00+00:00")
    assert refused.code == 4 and PAY_DUE in refused.err
    assert run(cli, ws, *holding, "--holding-reply", "--late", now="2025-12-11T13:00:00+00:00").code == 2
    recorded = run(
        cli,
        ws,
        *holding,
        "--holding-reply",
        "--late",
        "--reason",
        "missed in handover",
        now="2025-12-11T13:00:00+00:00",
    )
    assert recorded.code == 0, recorded.err
    event = json.loads(cli("show", case_id, "--json", cwd=ws).out)["events"][-1]
    assert event["action"] == "note" and event["holding_reply"] is True and event["late"] is True
    assert event["missed_due_at"] == PAY_DUE and event["late_reason"] == "missed in handover"

    resolved = run(
        cli, ws, "resolve", case_id, "--resolution", "refund of the charge", now="2026-01-09T15:00:00+00:00"
    )
    assert resolved.code == 0, resolved.err
    final = clocks(cli, ws, case_id, "2026-01-10T09:00:00+00:00")
    assert final[f"{PAY}.final_response"]["state"] == "missed"  # the breach stays
    assert final[f"{PAY}.final_response.extension1"]["state"] == "met"
    assert final[f"{PAY}.holding_reply"]["state"] == "missed"
    stats = json.loads(
        cli("stats", "--period", "2026-01", "--json", "--now", "2026-01-10T09:00:00+00:00", cwd=ws).out
    )
    sla = {row["clock"]: row for row in stats["sla"]}
    assert (sla[f"{PAY}.final_response"]["met"], sla[f"{PAY}.final_response"]["missed"]) == (0, 1)
    assert (
        sla[f"{PAY}.final_response.extension1"]["met"],
        sla[f"{PAY}.final_response.extension1"]["missed"],
    ) == (
        1,
        0,
    )
    audit_clean(cli, ws)


def test_payments_extension_in_time_asks_for_a_holding_reply_in_time(ws, cli):
    case_id = file_case(cli, ws, PAY, PAY_FILED)
    extend = ("sla", "extend", case_id, "--clock", f"{PAY}.final_response", "--reason", "card scheme")
    extended = run(cli, ws, *extend, now="2025-12-05T10:00:00+00:00")
    assert extended.code == 0, extended.err
    assert f"a holding reply is due by {PAY_DUE}" in extended.err
    # --late on something in time is refused: it would record a falsehood.
    late = ("note", case_id, "x", "--holding-reply", "--late", "--reason", "r")
    assert run(cli, ws, *late, now="2025-12-08T10:00:00+00:00").code == 2
    shown = clocks(cli, ws, case_id, "2025-12-08T10:00:00+00:00")
    assert shown[f"{PAY}.final_response"]["due_at"] == PAY_EXTENDED
    assert shown[f"{PAY}.holding_reply"]["state"] in ("ok", "warning")
    sent = run(
        cli,
        ws,
        "note",
        case_id,
        "Final response by 9 January.",
        "--holding-reply",
        now="2025-12-08T14:00:00+00:00",
    )
    assert sent.code == 0, sent.err
    shown = clocks(cli, ws, case_id, "2025-12-11T10:00:00+00:00")
    assert shown[f"{PAY}.holding_reply"]["state"] == "met"
    assert shown[f"{PAY}.final_response"]["state"] == "ok" and "extension1" not in str(sorted(shown))
    assert cli("sla", "check", "--now", "2025-12-11T10:00:00+00:00", "--quiet", cwd=ws).code in (0, 1)
    rows = json.loads(cli("sla", "check", "--json", "--now", "2025-12-11T10:00:00+00:00", cwd=ws).out)
    assert not [r for r in rows if r["clock"].startswith(PAY)]
    audit_clean(cli, ws)


def test_a_holding_reply_needs_a_clock_that_takes_one(ws, cli):
    case_id = file_case(cli, ws, "fca_disp", PAY_FILED)
    result = run(
        cli, ws, "note", case_id, "Still looking", "--holding-reply", now="2025-11-20T10:00:00+00:00"
    )
    assert result.code == 2 and "holding reply" in result.err
    assert run(cli, ws, "note", case_id, "x", "--internal", "--holding-reply").code == 2
    assert run(cli, ws, "note", case_id, "x", "--late").code == 2


def test_china_extensions_are_time_bound_and_a_late_one_runs_beside_the_breach(ws, cli):
    # Filed Mon 3 Nov 2025: 15 days end Tue 18 Nov; 30 days Wed 3 Dec; 60 days Fri 2 Jan 2026,
    # a New Year holiday, Sat 3 off, Sun 4 Jan a make-up workday.
    case_id = file_case(cli, ws, "cn_banking", "2025-11-03T10:00:00+08:00")
    extend = ("sla", "extend", case_id, "--clock", "cn_banking.decision", "--reason", "complex case")
    assert run(cli, ws, *extend, now="2025-11-18T20:00:00+08:00").code == 0  # day 15, 20:00: in time
    second = (*extend, "--approved-by", "omar")
    refused = run(cli, ws, *second, now="2025-12-04T09:00:00+08:00")
    assert refused.code == 4 and "2025-12-03T23:59:59+08:00" in refused.err
    assert run(cli, ws, *second, "--late", now="2025-12-04T09:00:00+08:00").code == 0
    shown = clocks(cli, ws, case_id, "2025-12-04T10:00:00+08:00")
    decision = shown["cn_banking.decision"]
    assert (decision["state"], decision["due_at"], decision["target"]) == (
        "breached",
        "2025-12-03T23:59:59+08:00",
        "30d",
    )
    beside = shown["cn_banking.decision.extension2"]
    assert (beside["state"], beside["due_at"]) == ("ok", "2026-01-04T23:59:59+08:00")
    # At its longest target: nothing more to extend.
    assert run(cli, ws, *second, "--late", now="2025-12-05T09:00:00+08:00").code == 2
    audit_clean(cli, ws)


def test_real_clock_a_long_past_deadline_cannot_be_extended_quietly(ws, cli, monkeypatch):
    monkeypatch.delenv("CMTOOL_NOW")
    case_id = file_case(cli, ws, PAY, PAY_FILED)
    extend = ("sla", "extend", case_id, "--clock", f"{PAY}.final_response", "--reason", "found in an audit")
    refused = run(cli, ws, *extend)
    assert refused.code == 4 and PAY_DUE in refused.err
    assert run(cli, ws, *extend, "--late").code == 0
    rows = json.loads(cli("sla", "check", "--json", cwd=ws).out)
    original = next(r for r in rows if r["clock"] == f"{PAY}.final_response")
    assert original["state"] == "breached" and original["extended_due_at"] == PAY_EXTENDED
    audit_clean(cli, ws)


POLICY_RULES = """\
calendars:
  uk: {timezone: Europe/London, hours: {mon-fri: "09:00-17:00"}}
sla:
  calendar: uk
  policies:
    - name: a
      count_from: tomorrow
      resolution: 5bd
    - name: b
      resolution: {target: 5bd, ends_at: noon, colour: red}
    - name: c
      first_response: 8h
      ends_at: end_of_day
    - name: d
      first_response: {target: 4h, count_from: receipt_day}
    - name: e
      resolution: {count_from: receipt_day}
"""


def test_counting_options_are_validated_with_line_numbers():
    _rules, _data, problems = check_rules(POLICY_RULES)
    found = {(p.line, p.message) for p in problems}
    assert (7, "sla.policies[0].count_from: 'tomorrow' is not one of receipt_day, next_business_day") in found
    assert (
        10,
        "sla.policies[1].resolution.ends_at: 'noon' is not one of close_of_business, end_of_day",
    ) in found
    assert any(line == 10 and "resolution.colour: unknown key" in message for line, message in found)
    assert any(
        line == 11 and "policies[2]: count_from: and ends_at: apply to day targets" in m for line, m in found
    )
    assert any(
        line == 15 and "policies[3].first_response: count_from: and ends_at:" in m for line, m in found
    )
    assert any(line == 17 and "policies[4].resolution: needs target:" in m for line, m in found)


def test_validate_shows_a_bad_counting_option_with_its_line(ws, cli):
    rules = (ws / "rules.yaml").read_text(encoding="utf-8")
    bad = rules.replace(
        "      resolution: 10bd\n", "      resolution: {target: 10bd, count_from: whenever}\n", 1
    )
    assert bad != rules
    (ws / "rules.yaml").write_text(bad, encoding="utf-8")
    line = bad.splitlines().index("      resolution: {target: 10bd, count_from: whenever}") + 1
    result = cli("validate", cwd=ws)
    assert result.code == 1
    assert f"rules.yaml:{line}:" in result.out + result.err and "whenever" in result.out + result.err


def test_a_policy_clock_can_count_like_a_regulator(ws, cli):
    rules = (ws / "rules.yaml").read_text(encoding="utf-8")
    changed = rules.replace(
        "      resolution: 10bd\n",
        textwrap.indent(
            "resolution: {target: 10bd, count_from: receipt_day, ends_at: end_of_day}\n", " " * 6
        ),
        1,
    )
    (ws / "rules.yaml").write_text(changed, encoding="utf-8")
    git(ws, "commit", "-qam", "count from the day of receipt")
    # Shanghai, Mon-Fri 09:00-12:00/13:00-18:00. Filed Fri 21 Nov 2025 17:30 (conftest's now):
    # ten business days after Friday: 24-28 Nov (5), 1-5 Dec (10) -> end of Fri 5 Dec.
    filed = run(cli, ws, "file", "--title", "parcel not arrived", "--channel", "email")
    assert filed.code == 0, filed.err
    shown = clocks(cli, ws, filed.out.strip(), "2025-11-22T10:00:00+08:00")
    resolution = shown["resolution"]
    assert resolution["due_at"] == "2025-12-05T23:59:59+08:00"
    assert (resolution["count_from"], resolution["ends_at"]) == ("receipt_day", "end_of_day")
