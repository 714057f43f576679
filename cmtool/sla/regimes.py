"""Regulatory regimes as named presets: the clocks a case carrying one must meet.

rules.yaml turns a preset on (``regimes: {fca_disp: {calendar: uk_business}}``)
and says which calendar it counts business days and holidays on; the targets,
the day counting starts and the moment a period ends are the regulator's,
written here once from the rule's own words (docs/sla.md lists the sources).
"""

from __future__ import annotations

from dataclasses import dataclass

from cmtool.rules.model import CLOSE_OF_BUSINESS, END_OF_DAY, RECEIPT_DAY, Counting, Target

# What stops a clock: the first response, the resolution (the final response or
# decision), or a holding reply (`cmtool note --holding-reply`), whichever the
# clock names; a holding-reply clock also stops at the resolution.
STOPS = ("first_response", "resolved", "holding_reply")


@dataclass(frozen=True)
class Extension:
    target: Target
    needs_approval: bool = False  # `sla extend` must name who approved it


@dataclass(frozen=True)
class ClockSpec:
    key: str  # "final_response"; the clock is named "<regime>.<key>"
    stop: str  # one of STOPS
    target: Target
    extensions: tuple[Extension, ...] = ()
    excludable: bool = False  # `sla exclude` periods (appraisal, testing) are not counted
    roll_to_working_day: bool = False  # a deadline on a holiday moves to the next working day
    advisory: bool = False  # shown, but a miss is no breach (no exit 1, no escalation)
    pause_while_waiting: bool = False  # regulators' clocks run while we wait on the customer
    counting: Counting = Counting()  # day of receipt counted from; the last day's end
    # Only once this sibling clock was extended (or a holding reply was sent):
    # the notice that must accompany an extension.
    when_extended: str | None = None
    help: str = ""


RECEIPT_TO_CLOSE = Counting(RECEIPT_DAY, CLOSE_OF_BUSINESS)
RECEIPT_TO_MIDNIGHT = Counting(RECEIPT_DAY, END_OF_DAY)


def _cn(name: str) -> tuple[ClockSpec, ...]:
    # 银行业保险业消费投诉处理管理办法 (2020) art. 18: "应当自收到消费投诉之日起15日内作出
    # 处理决定并告知投诉人，情况复杂的可以延长至30日；情况特别复杂或者有其他特殊原因的，经其
    # 上级机构或者总行、总公司高级管理人员审批并告知投诉人，可以再延长30日" — 15 days, 30 for
    # complex cases, a further 30 with senior approval; "需外部机构进行鉴定、检测、评估等工作的，
    # 相关期间可以不计入" — appraisal, testing and evaluation time excluded.
    # Counting is the Civil Code's (arts. 201, 203): "开始的当日不计入，自下一日开始计算"
    # (day 0 is the day of receipt); "期间的最后一日是法定休假日的，以法定休假日结束的次日为
    # 期间的最后一日" (a last day on a holiday rolls to the next working day); "截止时间为
    # 二十四时" (the day ends at midnight).
    return (
        ClockSpec(
            "decision",
            "resolved",
            Target(15, "d"),
            (Extension(Target(30, "d")), Extension(Target(60, "d"), needs_approval=True)),
            excludable=True,
            roll_to_working_day=True,
            counting=RECEIPT_TO_MIDNIGHT,
            help=f"{name}: decision within 15 days (30 extended, 60 with approval)",
        ),
    )


# DISP 1.5.1R: resolved "by close of business on the third business day following
# the day on which it is received" — counted from the day of receipt whatever the
# hour (the after-hours convention of DISP 1.5.3G was deleted in 2016), ending at
# close of business. An optional route: missing it is no breach, so advisory.
FCA_SUMMARY = ClockSpec(
    "summary_resolution",
    "resolved",
    Target(3, "bd"),
    advisory=True,
    counting=RECEIPT_TO_CLOSE,
    help="FCA DISP 1.5.1R: resolved by close of business on the 3rd business day",
)

PRESETS: dict[str, tuple[ClockSpec, ...]] = {
    # DISP 1.6.2R: "by the end of eight weeks after its receipt of the complaint"
    # — 56 days after the day of receipt, to the end of that day.
    "fca_disp": (
        FCA_SUMMARY,
        ClockSpec(
            "final_response",
            "resolved",
            Target(8, "w"),
            counting=RECEIPT_TO_MIDNIGHT,
            help="FCA DISP 1.6.2R: final response by the end of 8 weeks",
        ),
    ),
    # DISP 1.6.2AR(1): a final response "by the end of 15 business days after the
    # day on which it received the complaint"; (2)-(3): in exceptional situations a
    # holding reply within those 15 business days giving the reasons and a deadline
    # no later than 35 business days after the day of receipt (DISP 1.6.1R(1)(b)(i)(B):
    # "a holding response within 15 business days of its receipt of the complaint").
    "fca_disp_payments": (
        FCA_SUMMARY,
        ClockSpec(
            "final_response",
            "resolved",
            Target(15, "bd"),
            (Extension(Target(35, "bd")),),
            counting=RECEIPT_TO_MIDNIGHT,
            help="FCA DISP 1.6.2AR: 15 business days, 35 in exceptional cases",
        ),
        ClockSpec(
            "holding_reply",
            "holding_reply",
            Target(15, "bd"),
            counting=RECEIPT_TO_MIDNIGHT,
            when_extended="final_response",
            help="FCA DISP 1.6.2AR(2): holding reply within 15 business days",
        ),
    ),
    # CFPB Company Portal Manual 8.1: a response "within 15 calendar days of the
    # complaint being sent to your portal"; "In progress", then a final response
    # "within 60 calendar days". Silent on the hour: to the end of the day.
    "cfpb": (
        ClockSpec(
            "response",
            "first_response",
            Target(15, "d"),
            counting=RECEIPT_TO_MIDNIGHT,
            help="CFPB: company response within 15 calendar days",
        ),
        ClockSpec(
            "final_response",
            "resolved",
            Target(60, "d"),
            counting=RECEIPT_TO_MIDNIGHT,
            help="CFPB: final response within 60 calendar days",
        ),
    ),
    "cn_banking": _cn("China banking"),
    "cn_insurance": _cn("China insurance"),
}
