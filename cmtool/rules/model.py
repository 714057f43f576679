"""The rules of a workspace as frozen values, built once from rules.yaml by the loader."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cmtool.calendar import Calendars
from cmtool.rules.access import AccessPolicy, Role
from cmtool.rules.build_intake import Intake
from cmtool.rules.build_notify import NotifySettings
from cmtool.rules.build_reporting import Reporting

EMPTY: Mapping[str, Any] = MappingProxyType({})
UNITS = {"m": "minutes", "h": "hours", "bd": "business days", "d": "days", "w": "weeks"}
# About ten years in each unit: any real target is far shorter, and a longer one
# (``99999999bd``) would make deadline arithmetic run past the calendar's end.
MAX_TARGET = {"m": 10 * 366 * 24 * 60, "h": 10 * 366 * 24, "bd": 10 * 261, "d": 10 * 366, "w": 10 * 53}
_TARGET_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(m|h|bd|d|w)\s*$")


@dataclass(frozen=True)
class Target:
    """An SLA target: ``8h``/``30m`` of working time on the policy's calendar,
    ``3bd`` = by the end of the 3rd business day after receipt, ``15d``/``8w`` =
    by the end of the 15th calendar day (56th for 8 weeks) after the day of receipt."""

    amount: float
    unit: str

    @classmethod
    def parse(cls, text: Any) -> Target:
        match = _TARGET_RE.match(str(text))
        if not match or isinstance(text, bool):
            raise ValueError(f"{text!r} is not a target like 8h, 30m, 3bd, 15d or 8w")
        amount = float(match.group(1))
        if amount <= 0:
            raise ValueError(f"{text!r}: a target must be more than zero")
        if match.group(2) in ("bd", "d", "w") and amount != int(amount):
            raise ValueError(f"{text!r}: days and weeks are whole numbers (use h for hours)")
        limit = MAX_TARGET[match.group(2)]
        if amount > limit:
            raise ValueError(f"{text!r}: a target is at most {limit:g}{match.group(2)} (about ten years)")
        return cls(amount, match.group(2))

    def __str__(self) -> str:
        return f"{self.amount:g}{self.unit}"


# Where a day-based clock (bd, d, w) starts counting and the moment its last day ends.
RECEIPT_DAY, NEXT_BUSINESS_DAY = "receipt_day", "next_business_day"
CLOSE_OF_BUSINESS, END_OF_DAY = "close_of_business", "end_of_day"
COUNT_FROM = (RECEIPT_DAY, NEXT_BUSINESS_DAY)
ENDS_AT = (CLOSE_OF_BUSINESS, END_OF_DAY)


@dataclass(frozen=True)
class Counting:
    """How a day-based target is counted, in the words regulators use.

    ``count_from``: ``receipt_day`` = day 0 is the day the complaint arrived,
    whatever the hour ("the third business day following the day on which it is
    received"); ``next_business_day`` = a complaint that arrives after the day's
    work or on a day off counts as received on the next business day.
    ``ends_at``: ``close_of_business`` = the calendar's closing time on the last
    day; ``end_of_day`` = 23:59:59 local on the last day ("by the end of").
    """

    count_from: str = RECEIPT_DAY
    ends_at: str = END_OF_DAY

    @classmethod
    def default_for(cls, target: Target | None) -> Counting:
        """What a policy's target means unless rules.yaml says otherwise: business
        days count from the next business day and end at close of business;
        calendar days and weeks count from the day of receipt to 23:59:59."""
        if target is not None and target.unit == "bd":
            return cls(NEXT_BUSINESS_DAY, CLOSE_OF_BUSINESS)
        return cls(RECEIPT_DAY, END_OF_DAY)


@dataclass(frozen=True)
class Condition:
    """``when:`` of a rule: every named field must match one of its values, and
    (if given) the title or description must contain one of the keywords."""

    fields: Mapping[str, frozenset[str]] = field(default_factory=lambda: EMPTY)
    keywords: tuple[str, ...] = ()

    def matches(self, state: Mapping[str, Any], text: str) -> tuple[bool, str | None]:
        """(matched, the keyword that matched if keywords were asked for)."""
        for name, allowed in self.fields.items():
            value = state.get(name)
            values = value if isinstance(value, list) else [value]
            if not any(str(v).lower() in allowed for v in values if v is not None):
                return False, None
        if not self.keywords:
            return True, None
        hit = first_keyword(self.keywords, text)
        return hit is not None, hit


def keyword_pattern(word: str) -> re.Pattern[str]:
    """Whole words for Latin keywords (``bill`` must not match ``billion``); plain
    substrings for Chinese and other scripts written without spaces."""
    escaped = re.escape(word.lower())
    if word[:1].isascii() and word[:1].isalnum():
        escaped = r"(?<![a-z0-9])" + escaped
    if word[-1:].isascii() and word[-1:].isalnum():
        escaped += r"(?![a-z0-9])"
    return re.compile(escaped)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def first_keyword(keywords: tuple[str, ...], text: str) -> str | None:
    for word in keywords:
        pattern = _PATTERNS.get(word) or _PATTERNS.setdefault(word, keyword_pattern(word))
        if pattern.search(text):
            return word
    return None


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    team: str | None
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class PriorityRule:
    name: str
    when: Condition
    effect: str  # "set" | "at_least" | "raise"
    value: str | int


@dataclass(frozen=True)
class Team:
    name: str
    lead: str | None
    members: tuple[str, ...]
    strategy: str  # "round_robin" | "least_load"
    manager: str | None = None


@dataclass(frozen=True)
class Person:
    name: str
    email: str | None
    role: str
    team: str | None


@dataclass(frozen=True)
class Policy:
    name: str
    when: Condition
    calendar: str
    first_response: Target | None
    resolution: Target | None
    pause_while_waiting: bool
    counting: Mapping[str, Counting] = field(default_factory=lambda: EMPTY)  # clock -> counting


@dataclass(frozen=True)
class Regime:
    name: str
    preset: str
    calendar: str
    apply_when: Condition | None
    currency: str | None = None  # ISO 4217 code of redress under this regime


@dataclass(frozen=True)
class Step:
    """One rung of the escalation ladder."""

    name: str
    share: float  # of the target's time used, 0 < share <= 1
    after_seconds: float  # further wall time after that share is reached
    notify: tuple[str, ...]  # assignee, team_lead, manager, or a person's name
    level: int  # 0 = a warning; 1, 2... = escalation levels

    @property
    def action(self) -> str:
        return "sla_warn" if self.level == 0 else "sla_escalate"


@dataclass(frozen=True)
class Rules:
    categories: tuple[Category, ...] = ()
    priority_rules: tuple[PriorityRule, ...] = ()
    teams: Mapping[str, Team] = field(default_factory=lambda: EMPTY)
    people: Mapping[str, Person] = field(default_factory=lambda: EMPTY)
    roles: Mapping[str, Role] = field(default_factory=lambda: EMPTY)
    access: AccessPolicy = field(default_factory=AccessPolicy)  # roles, people, audit
    default_team: str | None = None
    assign_on_file: bool = False
    policies: tuple[Policy, ...] = ()
    regimes: Mapping[str, Regime] = field(default_factory=lambda: EMPTY)
    escalation: tuple[Step, ...] = ()
    calendars: Calendars = field(default_factory=lambda: Calendars({}))
    reporting: Reporting = field(default_factory=Reporting)
    notifications: NotifySettings | None = None  # None: nothing is sent
    intake: Intake = field(default_factory=Intake)  # mail and web intake settings
    # the parsed file, for sections other modules own (survey)
    views: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: EMPTY)  # saved list filters
    attachment_max_bytes: int = 25 * 1024 * 1024
    raw: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    def category(self, key: str | None) -> Category | None:
        return next((c for c in self.categories if c.key == key), None)

    def policy_for(self, state: Mapping[str, Any]) -> Policy | None:
        """The first SLA policy whose ``when`` matches the case (None: no team SLA)."""
        return next((p for p in self.policies if p.when.matches(state, "")[0]), None)

    @property
    def warn_share(self) -> float:
        """Where a clock turns from ok to warning: the first warning rung, else 80 %."""
        return next((s.share for s in self.escalation if s.level == 0), 0.8)

    def currency_for(self, state: Mapping[str, Any]) -> str:
        """The currency of a redress recorded without one: the case's first regime
        that names a currency, else the workspace's (``reporting.currency``)."""
        for name in state.get("regimes") or ():
            regime = self.regimes.get(name)
            if regime is not None and regime.currency:
                return regime.currency
        return self.reporting.currency

    def managers(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.people.values() if p.role == "manager")
