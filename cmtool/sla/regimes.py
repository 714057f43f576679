"""Regulatory regimes as named presets: the clocks a case carrying one must meet.

rules.yaml turns a preset on (``regimes: {fca_disp: {calendar: uk_business}}``)
and says which calendar it counts business days and holidays on; the targets
themselves are the regulator's, written here once.
"""

from __future__ import annotations

from dataclasses import dataclass

from cmtool.rules.model import Target


@dataclass(frozen=True)
class Extension:
    target: Target
    needs_approval: bool = False  # `sla extend` must name who approved it


@dataclass(frozen=True)
class ClockSpec:
    key: str  # "final_response"; the clock is named "<regime>.<key>"
    stop: str  # "first_response" or "resolved": what stops the clock
    target: Target
    extensions: tuple[Extension, ...] = ()
    excludable: bool = False  # `sla exclude` periods (appraisal, testing) are not counted
    roll_to_working_day: bool = False  # a deadline on a holiday moves to the next working day
    advisory: bool = False  # shown, but a miss is no breach (no exit 1, no escalation)
    pause_while_waiting: bool = False  # regulators' clocks run while we wait on the customer
    help: str = ""


def _cn(name: str) -> tuple[ClockSpec, ...]:
    # 银行保险机构消费投诉处理管理办法 (2020), art. 20: decide within 15 days;
    # complex cases may be extended to 30 days, and in special cases a further
    # 30 days with approval; appraisal, testing and evaluation time is excluded.
    # Civil Code art. 203: a period ending on a statutory holiday ends the day after.
    return (
        ClockSpec(
            "decision",
            "resolved",
            Target(15, "d"),
            (Extension(Target(30, "d")), Extension(Target(60, "d"), needs_approval=True)),
            excludable=True,
            roll_to_working_day=True,
            help=f"{name}: decision within 15 days (30 extended, 60 with approval)",
        ),
    )


# FCA DISP 1.5: summary resolution by close of the 3rd business day after receipt
# (an optional route: missing it is no breach, so the clock is advisory).
FCA_SUMMARY = ClockSpec(
    "summary_resolution",
    "resolved",
    Target(3, "bd"),
    advisory=True,
    help="FCA DISP 1.5: resolved by close of the 3rd business day",
)

PRESETS: dict[str, tuple[ClockSpec, ...]] = {
    # FCA DISP 1.5/1.6: summary resolution by the end of the 3rd business day after
    # receipt (optional route: missing it is no breach); final response in 8 weeks.
    "fca_disp": (
        FCA_SUMMARY,
        ClockSpec(
            "final_response",
            "resolved",
            Target(8, "w"),
            help="FCA DISP 1.6.2: final response within 8 weeks",
        ),
    ),
    # DISP 1.6.2A: payment services and e-money: 15 business days, 35 in exceptional cases.
    "fca_disp_payments": (
        FCA_SUMMARY,
        ClockSpec(
            "final_response",
            "resolved",
            Target(15, "bd"),
            (Extension(Target(35, "bd")),),
            help="FCA DISP 1.6.2A: 15 business days, 35 in exceptional cases",
        ),
    ),
    # CFPB complaint portal: the company responds within 15 days and closes
    # (final response) within 60 days.
    "cfpb": (
        ClockSpec(
            "response",
            "first_response",
            Target(15, "d"),
            help="CFPB: company response within 15 calendar days",
        ),
        ClockSpec(
            "final_response",
            "resolved",
            Target(60, "d"),
            help="CFPB: final response within 60 calendar days",
        ),
    ),
    "cn_banking": _cn("China banking"),
    "cn_insurance": _cn("China insurance"),
}
