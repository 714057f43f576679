"""Regulatory and policy clocks against a table computed by hand.

Every expected deadline below was worked out from the rule's own words and a
printed calendar (weekdays from ``cal``; UK bank holidays for England, US
federal holidays, China's statutory holidays and make-up workdays as published
by the State Council) before the code was run. The reasoning is beside each row.

Counting per preset (see docs/sla.md):
  fca summary_resolution  3bd   day of receipt, close of business (17:00 here)
  fca final_response      8w    day of receipt, end of day (23:59:59)
  payments final_response 15bd  day of receipt, end of day; 35bd when extended
  payments holding_reply  15bd  day of receipt, end of day; only once extended
  cfpb response/final     15d/60d  day of receipt, end of day
  cn decision             15d   day of receipt, end of day, a holiday rolls on
UK clocks change 26 Oct 2025, 29 Mar 2026, 25 Oct 2026, 26 Mar 2028; US ones
2 Nov 2025 and 8 Mar 2026.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.timefmt import format_time, parse_time
from cmtool.rules.loader import check_rules
from cmtool.sla.clocks import case_clocks

RULES_TEXT = """
calendars:
  uk: {timezone: Europe/London, hours: {mon-fri: "09:00-17:00"}, holidays: {country: GB, subdiv: ENG}}
  cn: {timezone: Asia/Shanghai, hours: {mon-fri: "09:00-12:00, 13:00-18:00"}, holidays: {country: CN}}
  us: {timezone: America/New_York, hours: {mon-fri: "09:00-17:00"}, holidays: {country: US}}
sla:
  calendar: uk
  pause_while_waiting: true
  policies:
    - {name: next_day_close, when: {channel: [phone]}, resolution: 3bd}
    - name: receipt_midnight
      when: {channel: [letter]}
      resolution: {target: 5bd, count_from: receipt_day, ends_at: end_of_day}
    - {name: days_close, when: {channel: [email]}, resolution: 10d, ends_at: close_of_business}
regimes:
  fca_disp: {calendar: uk}
  fca_disp_payments: {calendar: uk}
  cfpb: {calendar: us}
  cn_banking: {calendar: cn}
  cn_insurance: {calendar: cn}
"""
RULES, _, PROBLEMS = check_rules(RULES_TEXT)
assert not PROBLEMS, PROBLEMS

PAY = "fca_disp_payments"


def resolve(at: str) -> tuple:
    return (at, "resolve", {"status": "resolved", "resolved_at": at})


def reopen(at: str) -> tuple:
    return (at, "reopen", {"status": "in_progress", "resolved_at": None})


def extend(at: str, clock: str, target: str, number: int = 1, **extra) -> tuple:
    return (at, "sla_extend", {}, {"clock": clock, "target": target, "extension": number, **extra})


def holding(at: str) -> tuple:
    return (at, "note", {"first_response_at": at}, {"holding_reply": True})


@dataclass(frozen=True)
class Row:
    name: str
    clock: str
    filed: str
    due: str
    why: str
    state: str | None = None
    now: str | None = None  # default: the moment of filing
    steps: tuple = ()
    channel: str = "web"
    expect: dict = field(default_factory=dict)  # further ClockState fields


ROWS = [
    # --- FCA DISP 1.5.1R summary resolution: 3 business days after the day of receipt,
    # by close of business. Received at any hour counts from that day.
    Row(
        "fca summary, received on a Saturday",
        "fca_disp.summary_resolution",
        "2025-11-15T11:00:00+00:00",
        "2025-11-19T17:00:00+00:00",
        "Sat 15 Nov: business days following it are Mon 17, Tue 18, Wed 19; close 17:00",
    ),
    Row(
        "fca summary, received after hours",
        "fca_disp.summary_resolution",
        "2025-11-19T18:30:00+00:00",
        "2025-11-24T17:00:00+00:00",
        "Wed 19 Nov 18:30 is still the day of receipt: Thu 20, Fri 21, Mon 24",
    ),
    Row(
        "fca summary, received exactly at closing time",
        "fca_disp.summary_resolution",
        "2025-11-10T17:00:00+00:00",
        "2025-11-13T17:00:00+00:00",
        "Mon 10 Nov 17:00: day of receipt Monday; Tue 11, Wed 12, Thu 13",
    ),
    Row(
        "fca summary, received at midnight",
        "fca_disp.summary_resolution",
        "2025-11-24T00:00:00+00:00",
        "2025-11-27T17:00:00+00:00",
        "Mon 24 Nov 00:00 is Monday: Tue 25, Wed 26, Thu 27",
    ),
    Row(
        "fca summary, received on Christmas Day",
        "fca_disp.summary_resolution",
        "2025-12-25T10:00:00+00:00",
        "2025-12-31T17:00:00+00:00",
        "Thu 25 Dec; Fri 26 Boxing Day and the weekend are not business days: Mon 29, Tue 30, Wed 31",
    ),
    Row(
        "fca summary, over Easter",
        "fca_disp.summary_resolution",
        "2026-04-02T16:00:00+01:00",
        "2026-04-09T17:00:00+01:00",
        "Thu 2 Apr 2026; Good Friday 3, weekend, Easter Monday 6 off: Tue 7, Wed 8, Thu 9",
    ),
    Row(
        "fca summary, across the March clock change",
        "fca_disp.summary_resolution",
        "2026-03-27T12:00:00+00:00",
        "2026-04-01T17:00:00+01:00",
        "Fri 27 Mar GMT; clocks go forward Sun 29: Mon 30, Tue 31, Wed 1 Apr, 17:00 BST",
    ),
    Row(
        "fca summary, after hours across the October clock change",
        "fca_disp.summary_resolution",
        "2025-10-24T17:30:00+01:00",
        "2025-10-29T17:00:00+00:00",
        "Fri 24 Oct 17:30 BST, clocks go back Sun 26: Mon 27, Tue 28, Wed 29, 17:00 GMT",
    ),
    Row(
        "fca summary, across leap day 2028",
        "fca_disp.summary_resolution",
        "2028-02-26T10:00:00+00:00",
        "2028-03-01T17:00:00+00:00",
        "Sat 26 Feb 2028: Mon 28, Tue 29 (leap day), Wed 1 Mar",
    ),
    Row(
        "fca summary resolved half an hour late is missed (advisory)",
        "fca_disp.summary_resolution",
        "2025-11-15T11:00:00+00:00",
        "2025-11-19T17:00:00+00:00",
        "due Wed 19 Nov 17:00 (first row); resolved 17:30 is after close of business",
        state="missed",
        now="2025-11-20T09:00:00+00:00",
        steps=(resolve("2025-11-19T17:30:00+00:00"),),
        expect={"advisory": True, "count_from": "receipt_day", "ends_at": "close_of_business"},
    ),
    # --- FCA DISP 1.6.2R: "by the end of eight weeks after its receipt": day + 56, 23:59:59.
    Row(
        "fca 8 weeks across the October clock change",
        "fca_disp.final_response",
        "2025-10-02T15:00:00+01:00",
        "2025-11-27T23:59:59+00:00",
        "Thu 2 Oct + 56 days: 29 days to 31 Oct, 27 more = Thu 27 Nov, now GMT",
    ),
    Row(
        "fca 8 weeks across the March clock change, ending on a Saturday",
        "fca_disp.final_response",
        "2026-02-14T10:00:00+00:00",
        "2026-04-11T23:59:59+01:00",
        "Sat 14 Feb + 56: 14 to 28 Feb, 31 to 31 Mar, 11 more = Sat 11 Apr (no roll in DISP), BST",
    ),
    Row(
        "fca 8 weeks from leap day 2028",
        "fca_disp.final_response",
        "2028-02-29T09:30:00+00:00",
        "2028-04-25T23:59:59+01:00",
        "Tue 29 Feb 2028 + 56: 31 to 31 Mar, 25 more = Tue 25 Apr, BST since 26 Mar",
    ),
    Row(
        "fca 8 weeks met in the evening of the last day",
        "fca_disp.final_response",
        "2025-11-10T10:00:00+00:00",
        "2026-01-05T23:59:59+00:00",
        "Mon 10 Nov + 56 = Mon 5 Jan; a final response at 20:00 that day is by the end of it",
        state="met",
        now="2026-01-06T09:00:00+00:00",
        steps=(resolve("2026-01-05T20:00:00+00:00"),),
    ),
    # --- DISP 1.6.2AR: "by the end of 15 business days after the day on which it received".
    Row(
        "payments, received after hours",
        f"{PAY}.final_response",
        "2025-11-19T18:30:00+00:00",
        "2025-12-10T23:59:59+00:00",
        "Wed 19 Nov: Nov 20,21,24,25,26,27,28 (7), Dec 1-5 (12), 8, 9, 10 (15), end of day",
        expect={"count_from": "receipt_day", "ends_at": "end_of_day"},
    ),
    Row(
        "payments over Christmas and New Year",
        f"{PAY}.final_response",
        "2025-12-15T10:00:00+00:00",
        "2026-01-08T23:59:59+00:00",
        "Mon 15 Dec: 16-19 (4), 22, 23, 24 (7), 25/26 off, 29, 30, 31 (10), 1 Jan off, 2 (11), 5-8 (15)",
    ),
    Row(
        "payments over Easter and the March clock change",
        f"{PAY}.final_response",
        "2026-03-23T11:00:00+00:00",
        "2026-04-15T23:59:59+01:00",
        "Mon 23 Mar: 24-27 (4), 30, 31, 1, 2 Apr (8), Good Friday/Easter Monday off, 7-10 (12), 13-15 (15)",
    ),
    Row(
        "payments received on Easter Monday",
        f"{PAY}.final_response",
        "2026-04-06T10:00:00+01:00",
        "2026-04-27T23:59:59+01:00",
        "Mon 6 Apr (bank holiday) is the day of receipt: 7-10 (4), 13-17 (9), 20-24 (14), Mon 27 (15)",
    ),
    Row(
        "payments over Christmas 2026 (Boxing Day observed Monday 28)",
        f"{PAY}.final_response",
        "2026-12-23T12:00:00+00:00",
        "2027-01-18T23:59:59+00:00",
        "Wed 23 Dec: 24 (1), Fri 25 and Mon 28 (observed) off, 29-31 (4), 1 Jan off, 4-8 (9), "
        "11-15 (14), 18 (15)",
    ),
    Row(
        "payments across leap day 2028",
        f"{PAY}.final_response",
        "2028-02-28T16:00:00+00:00",
        "2028-03-20T23:59:59+00:00",
        "Mon 28 Feb 2028: 29 Feb (1), 1-3 Mar (4), 6-10 (9), 13-17 (14), Mon 20 (15)",
    ),
    Row(
        "payments final response at 23:59:59 of the 15th business day is met",
        f"{PAY}.final_response",
        "2025-11-19T18:30:00+00:00",
        "2025-12-10T23:59:59+00:00",
        "due by the end of Wed 10 Dec; a response stamped 23:59:59 is by it",
        state="met",
        now="2025-12-11T09:00:00+00:00",
        steps=(resolve("2025-12-10T23:59:59+00:00"),),
    ),
    Row(
        "payments final response at midnight after the 15th business day is missed",
        f"{PAY}.final_response",
        "2025-11-19T18:30:00+00:00",
        "2025-12-10T23:59:59+00:00",
        "00:00 on Thu 11 Dec is one second after the end of Wed 10 Dec",
        state="missed",
        now="2025-12-11T09:00:00+00:00",
        steps=(resolve("2025-12-11T00:00:00+00:00"),),
    ),
    Row(
        "payments extended in time to 35 business days",
        f"{PAY}.final_response",
        "2025-11-19T18:30:00+00:00",
        "2026-01-12T23:59:59+00:00",
        "from day 15 (10 Dec): 11-12 (17), 15-19 (22), 22-24 (25), 29-31 (28), 2 Jan (29), 5-9 (34), "
        "Mon 12 Jan (35); extended Fri 5 Dec, before 10 Dec; 123 of 280 working hours used: ok",
        state="ok",
        now="2025-12-11T12:00:00+00:00",
        steps=(extend("2025-12-05T10:00:00+00:00", f"{PAY}.final_response", "35bd"),),
        expect={"target": "35bd", "extends": None, "extended_due_at": None},
    ),
    Row(
        "payments extended late: the 15-day breach stays",
        f"{PAY}.final_response",
        "2025-11-19T18:30:00+00:00",
        "2025-12-10T23:59:59+00:00",
        "extension recorded Thu 11 Dec 09:00, after the end of Wed 10 Dec: the clock keeps 15bd",
        state="breached",
        now="2025-12-11T12:00:00+00:00",
        steps=(extend("2025-12-11T09:00:00+00:00", f"{PAY}.final_response", "35bd", late=True),),
        expect={"target": "15bd", "extended_due_at": "2026-01-12T23:59:59+00:00"},
    ),
    Row(
        "payments extended late: the extension runs beside it",
        f"{PAY}.final_response.extension1",
        "2025-11-19T18:30:00+00:00",
        "2026-01-12T23:59:59+00:00",
        "35 business days after Wed 19 Nov, as in the in-time row",
        state="ok",
        now="2025-12-11T12:00:00+00:00",
        steps=(extend("2025-12-11T09:00:00+00:00", f"{PAY}.final_response", "35bd", late=True),),
        expect={"target": "35bd", "extends": f"{PAY}.final_response"},
    ),
    Row(
        "payments extended late then resolved in the extension: still missed",
        f"{PAY}.final_response",
        "2025-11-19T18:30:00+00:00",
        "2025-12-10T23:59:59+00:00",
        "resolved Fri 9 Jan, inside 35bd but after 15bd: the original clock is missed",
        state="missed",
        now="2026-01-10T09:00:00+00:00",
        steps=(
            extend("2025-12-11T09:00:00+00:00", f"{PAY}.final_response", "35bd", late=True),
            resolve("2026-01-09T15:00:00+00:00"),
        ),
    ),
    Row(
        "payments extended late then resolved in the extension: the extension is met",
        f"{PAY}.final_response.extension1",
        "2025-11-19T18:30:00+00:00",
        "2026-01-12T23:59:59+00:00",
        "Fri 9 Jan is before the end of Mon 12 Jan",
        state="met",
        now="2026-01-10T09:00:00+00:00",
        steps=(
            extend("2025-12-11T09:00:00+00:00", f"{PAY}.final_response", "35bd", late=True),
            resolve("2026-01-09T15:00:00+00:00"),
        ),
    ),
    Row(
        "payments extended without a holding reply: the holding reply is overdue",
        f"{PAY}.holding_reply",
        "2025-11-19T18:30:00+00:00",
        "2025-12-10T23:59:59+00:00",
        "DISP 1.6.2AR(2): holding reply within the 15 business days, i.e. by the end of Wed 10 Dec",
        state="breached",
        now="2025-12-11T10:00:00+00:00",
        steps=(extend("2025-12-05T10:00:00+00:00", f"{PAY}.final_response", "35bd"),),
    ),
    Row(
        "payments holding reply sent in time",
        f"{PAY}.holding_reply",
        "2025-11-19T18:30:00+00:00",
        "2025-12-10T23:59:59+00:00",
        "holding reply Mon 8 Dec 14:00, before the end of Wed 10 Dec",
        state="met",
        now="2025-12-11T10:00:00+00:00",
        steps=(
            extend("2025-12-05T10:00:00+00:00", f"{PAY}.final_response", "35bd"),
            holding("2025-12-08T14:00:00+00:00"),
        ),
        expect={"stopped_at": "2025-12-08T14:00:00+00:00"},
    ),
    Row(
        "payments reopened: the business days spent resolved are not counted",
        f"{PAY}.final_response",
        "2025-12-01T10:00:00+00:00",
        "2025-12-29T23:59:59+00:00",
        "unpaused: Dec 2-5, 8-12, 15-19, 22 = 15th day Mon 22 Dec. Resolved Wed 3 Dec 12:00 to Mon 8 Dec "
        "12:00 = 5+8+8+3 = 24 working hours = 3 business days: 23, 24, (25/26 off) 29 Dec",
        state="ok",
        now="2025-12-08T13:00:00+00:00",
        steps=(resolve("2025-12-03T12:00:00+00:00"), reopen("2025-12-08T12:00:00+00:00")),
        expect={"paused_seconds": 24 * 3600},
    ),
    # --- CFPB Company Portal Manual 8.1: 15 and 60 calendar days, end of the day.
    Row(
        "cfpb response across the November clock change, ending on a Saturday",
        "cfpb.response",
        "2025-10-31T22:00:00-04:00",
        "2025-11-15T23:59:59-05:00",
        "Fri 31 Oct (EDT) + 15 = Sat 15 Nov (calendar days, no roll), EST after 2 Nov",
    ),
    Row(
        "cfpb final response in 60 days",
        "cfpb.final_response",
        "2025-10-31T22:00:00-04:00",
        "2025-12-30T23:59:59-05:00",
        "31 Oct + 30 = 30 Nov, + 30 = 30 Dec",
    ),
    Row(
        "cfpb received at midnight across the March clock change",
        "cfpb.response",
        "2026-03-01T00:00:00-05:00",
        "2026-03-16T23:59:59-04:00",
        "Sun 1 Mar 00:00 + 15 = Mon 16 Mar, EDT after 8 Mar",
    ),
    Row(
        "cfpb response a day late",
        "cfpb.response",
        "2025-10-31T22:00:00-04:00",
        "2025-11-15T23:59:59-05:00",
        "first contact Sun 16 Nov 09:00 is after the end of Sat 15 Nov",
        state="missed",
        now="2025-11-17T09:00:00-05:00",
        steps=(("2025-11-16T09:00:00-05:00", "note", {"first_response_at": "2025-11-16T09:00:00-05:00"}),),
    ),
    # --- 银行业保险业消费投诉处理管理办法 art. 18 with the Civil Code's counting.
    Row(
        "cn deadline on National Day rolls past the holiday",
        "cn_banking.decision",
        "2025-09-20T11:00:00+08:00",
        "2025-10-09T23:59:59+08:00",
        "Sat 20 Sep + 15 = Sun 5 Oct, inside the 1-8 Oct holiday: first working day Thu 9 Oct",
    ),
    Row(
        "cn deadline on a make-up Sunday stays",
        "cn_banking.decision",
        "2025-09-13T10:00:00+08:00",
        "2025-09-28T23:59:59+08:00",
        "Sat 13 Sep + 15 = Sun 28 Sep 2025, a make-up workday before National Day: no roll",
    ),
    Row(
        "cn deadline in the Spring Festival holiday rolls to its end",
        "cn_insurance.decision",
        "2026-01-31T10:00:00+08:00",
        "2026-02-24T23:59:59+08:00",
        "Sat 31 Jan 2026 + 15 = Sun 15 Feb; holiday 15-23 Feb: first working day Tue 24 Feb",
    ),
    Row(
        "cn deadline on the Spring Festival make-up Saturday stays",
        "cn_banking.decision",
        "2026-01-30T10:00:00+08:00",
        "2026-02-14T23:59:59+08:00",
        "Fri 30 Jan 2026 + 15 = Sat 14 Feb 2026, a make-up workday: no roll",
    ),
    Row(
        "cn extended to 30 days on day 15",
        "cn_banking.decision",
        "2025-11-03T10:00:00+08:00",
        "2025-12-03T23:59:59+08:00",
        "Mon 3 Nov + 30 = Wed 3 Dec; extension Tue 18 Nov 20:00 is before the end of day 15 (18 Nov)",
        state="ok",
        now="2025-11-20T09:00:00+08:00",
        steps=(extend("2025-11-18T20:00:00+08:00", "cn_banking.decision", "30d"),),
    ),
    Row(
        "cn extended late: the 15-day breach stays",
        "cn_banking.decision",
        "2025-11-03T10:00:00+08:00",
        "2025-11-18T23:59:59+08:00",
        "Mon 3 Nov + 15 = Tue 18 Nov; the extension on Wed 19 Nov 09:00 comes after it",
        state="breached",
        now="2025-11-20T09:00:00+08:00",
        steps=(extend("2025-11-19T09:00:00+08:00", "cn_banking.decision", "30d", late=True),),
        expect={"extended_due_at": "2025-12-03T23:59:59+08:00"},
    ),
    Row(
        "cn extended late: the 30-day clock runs beside it",
        "cn_banking.decision.extension1",
        "2025-11-03T10:00:00+08:00",
        "2025-12-03T23:59:59+08:00",
        "Mon 3 Nov + 30 = Wed 3 Dec",
        state="ok",
        now="2025-11-20T09:00:00+08:00",
        steps=(extend("2025-11-19T09:00:00+08:00", "cn_banking.decision", "30d", late=True),),
    ),
    Row(
        "cn extended twice in time to 60 days, ending on New Year holidays",
        "cn_banking.decision",
        "2025-11-03T10:00:00+08:00",
        "2026-01-04T23:59:59+08:00",
        "3 Nov + 60: 27 to 30 Nov, 31 to 31 Dec, 2 more = Fri 2 Jan 2026, a holiday; Sat 3 off; "
        "Sun 4 Jan is a make-up workday",
        state="ok",
        now="2025-12-01T09:00:00+08:00",
        steps=(
            extend("2025-11-10T09:00:00+08:00", "cn_banking.decision", "30d"),
            extend("2025-11-30T09:00:00+08:00", "cn_banking.decision", "60d", 2, approved_by="omar"),
        ),
    ),
    Row(
        "cn appraisal excluded, deadline lands on a Sunday and rolls",
        "cn_insurance.decision",
        "2025-12-01T09:30:00+08:00",
        "2025-12-22T23:59:59+08:00",
        "Mon 1 Dec + 15 = Tue 16 Dec; appraisal 5 Dec 00:00 to 10 Dec 00:00 = 5 days: Sun 21 Dec; "
        "rolls to Mon 22",
        state="ok",
        now="2025-12-11T09:00:00+08:00",
        steps=(
            (
                "2025-12-10T10:00:00+08:00",
                "sla_exclude",
                {},
                {"from": "2025-12-05T00:00:00+08:00", "to": "2025-12-10T00:00:00+08:00"},
            ),
        ),
        expect={"paused_seconds": 5 * 86400},
    ),
    Row(
        "cn appraisal still going on: paused",
        "cn_insurance.decision",
        "2025-12-01T09:30:00+08:00",
        "2025-12-23T23:59:59+08:00",
        "appraisal recorded ahead as 5 Dec 00:00 to 12 Dec 00:00 = 7 days: 16 Dec + 7 = Tue 23 Dec; "
        "on 7 Dec the clock is paused",
        state="paused",
        now="2025-12-07T12:00:00+08:00",
        steps=(
            (
                "2025-12-04T10:00:00+08:00",
                "sla_exclude",
                {},
                {"from": "2025-12-05T00:00:00+08:00", "to": "2025-12-12T00:00:00+08:00"},
            ),
        ),
    ),
    Row(
        "cn reopened: the days spent resolved are not counted",
        "cn_banking.decision",
        "2025-11-03T10:00:00+08:00",
        "2025-11-24T23:59:59+08:00",
        "15d ends Tue 18 Nov; resolved Wed 5 Nov 15:00 to Mon 10 Nov 09:00 = 4 days 18 h: the deadline "
        "lands on Sun 23 Nov 17:59:59, end of that day, a Sunday: rolls to Mon 24",
        state="ok",
        now="2025-11-10T10:00:00+08:00",
        steps=(resolve("2025-11-05T15:00:00+08:00"), reopen("2025-11-10T09:00:00+08:00")),
    ),
    # --- Internal policies: the counting is a property of each clock.
    Row(
        "policy 3bd by default counts from the next business day to close of business",
        "resolution",
        "2025-11-07T18:30:00+00:00",
        "2025-11-13T17:00:00+00:00",
        "Fri 7 Nov 18:30 after hours: received Mon 10; Tue 11, Wed 12, Thu 13 at 17:00",
        channel="phone",
        expect={"count_from": "next_business_day", "ends_at": "close_of_business"},
    ),
    Row(
        "policy 5bd from the day of receipt to the end of the day",
        "resolution",
        "2025-11-15T11:00:00+00:00",
        "2025-11-21T23:59:59+00:00",
        "Sat 15 Nov: Mon 17 to Fri 21 is five business days; end of day",
        channel="letter",
        expect={"count_from": "receipt_day", "ends_at": "end_of_day"},
    ),
    Row(
        "policy 10 days to close of business, the 10th day a Sunday",
        "resolution",
        "2025-11-20T10:00:00+00:00",
        "2025-11-28T17:00:00+00:00",
        "Thu 20 Nov + 10 = Sun 30 Nov, no business that day: the last close before it, Fri 28 17:00",
        channel="email",
    ),
    Row(
        "policy 5bd paused while waiting on the customer",
        "resolution",
        "2025-11-17T10:00:00+00:00",
        "2025-11-26T23:59:59+00:00",
        "unpaused: 18-21, 24 Nov = 47 working hours from Mon 10:00. Waiting Tue 18 13:00 to Thu 20 11:00 "
        "= 4+8+2 = 14 h; 11 h used before, 36 h left from Thu 11:00: Thu 6, Fri 8, Mon 8, Tue 8, "
        "Wed 26 09:00+6 h = 15:00, so the end of Wed 26",
        state="ok",
        now="2025-11-20T12:00:00+00:00",
        channel="letter",
        steps=(
            ("2025-11-17T11:00:00+00:00", "assign", {"status": "assigned"}),
            ("2025-11-18T13:00:00+00:00", "wait", {"status": "waiting"}),
            ("2025-11-20T11:00:00+00:00", "resume", {"status": "in_progress"}),
        ),
        expect={"paused_seconds": 14 * 3600},
    ),
]


def make_case(row: Row) -> Case:
    regime = row.clock.split(".")[0] if "." in row.clock else None
    state = {
        "title": "t",
        "status": "new",
        "priority": "normal",
        "channel": row.channel,
        "filed_at": row.filed,
        "regimes": [regime] if regime else None,
    }
    filed = Event(
        row.filed,
        "tester",
        "file",
        MappingProxyType({k: (None, v) for k, v in state.items() if v is not None}),
    )
    case = Case("C-251103-0000000", MappingProxyType({}), ()).with_event(filed)
    for at, action, updates, *details in row.steps:
        changes = {k: (case.state.get(k), v) for k, v in updates.items()}
        extra = MappingProxyType(details[0] if details else {})
        case = case.with_event(Event(at, "tester", action, MappingProxyType(changes), details=extra))
    return case


def test_the_table_is_large_enough():
    assert len(ROWS) >= 30
    assert len({row.name for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_hand_computed(row: Row):
    clocks = {c.clock: c for c in case_clocks(make_case(row), RULES, parse_time(row.now or row.filed))}
    assert row.clock in clocks, f"{row.clock} not among {sorted(clocks)}"
    clock = clocks[row.clock]
    assert clock.due_at == row.due, row.why
    if row.state is not None:
        assert clock.state == row.state, row.why
    for key, value in row.expect.items():
        assert getattr(clock, key) == value, (key, row.why)


def test_no_holding_reply_clock_until_the_final_response_is_extended():
    row = ROWS[[r.name for r in ROWS].index("payments, received after hours")]
    names = {c.clock for c in case_clocks(make_case(row), RULES, parse_time(row.filed))}
    assert names >= {f"{PAY}.final_response", f"{PAY}.summary_resolution"}
    assert f"{PAY}.holding_reply" not in names


@settings(max_examples=60, deadline=None)
@given(
    filed_hours=st.integers(0, 3 * 365 * 24),
    extend_after=st.integers(0, 900),
    resolve_after=st.integers(0, 900),
    preset=st.sampled_from([(PAY, "final_response", "35bd"), ("cn_banking", "decision", "30d")]),
)
def test_no_extension_hides_a_breach(filed_hours, extend_after, resolve_after, preset):
    """Whatever the moments: an extension recorded after the deadline leaves that
    deadline missed; one recorded by it leaves a single, longer clock."""
    regime, key, target = preset
    zone = "+00:00" if regime == PAY else "+08:00"
    filed = parse_time(f"2025-01-01T00:00:00{zone}") + timedelta(hours=filed_hours)
    extended = filed + timedelta(hours=extend_after)
    resolved = extended + timedelta(hours=resolve_after)
    clock = f"{regime}.{key}"
    row = Row("p", clock, format_time(filed), "", "", steps=(extend(format_time(extended), clock, target),))
    plain = Row("p", clock, format_time(filed), "", "")
    base_due = parse_time(
        {c.clock: c for c in case_clocks(make_case(plain), RULES, filed)}[clock].due_at or ""
    )
    case = make_case(row).with_event(
        Event(
            format_time(resolved),
            "tester",
            "resolve",
            MappingProxyType({"status": ("new", "resolved"), "resolved_at": (None, format_time(resolved))}),
        )
    )
    clocks = {c.clock: c for c in case_clocks(case, RULES, resolved + timedelta(hours=1))}
    if extended > base_due:
        assert clocks[clock].state == "missed" and clocks[clock].target != target
        assert clocks[f"{clock}.extension1"].extends == clock
    else:
        assert clocks[clock].target == target and f"{clock}.extension1" not in clocks
    if resolved <= base_due:
        assert clocks[clock].state == "met"
