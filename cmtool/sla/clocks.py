"""SLA clocks of a case, computed from its events and the rules as of ``now``.

Deadlines are never stored: a clock starts at ``filed_at``, counts its target
on its calendar (see ``sla.deadlines``), skips paused periods (waiting on the
customer, if the policy says so; excluded periods such as an external
appraisal; time spent resolved before a reopen), and stops at the first
response, the resolution or a holding reply.

Extensions recorded as events pick a longer target, but only while the clock
they extend has not fallen due: an extension recorded later cannot turn a
missed deadline into a met one. The clock keeps its breach, and the extended
clock runs beside it as ``<clock>.extension<N>``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from cmtool.calendar import BusinessCalendar, Measure
from cmtool.model.case import Case
from cmtool.model.timefmt import format_time, parse_time
from cmtool.rules.model import Counting, Rules, Target
from cmtool.sla.deadlines import DAY_UNITS, Interval, Pauses, due_moment, measure_for, merge_pauses, walk
from cmtool.sla.periods import Periods, case_periods
from cmtool.sla.regimes import PRESETS, ClockSpec

STATES = ("ok", "warning", "breached", "paused", "met", "missed")


@dataclass(frozen=True)
class ClockState:
    case_id: str
    clock: str  # "first_response", "resolution", "fca_disp.final_response", ...
    source: str  # "team" or the regime name, e.g. "fca_disp"
    state: str  # "ok" | "warning" | "breached" | "paused" | "met" | "missed"
    started_at: str  # ISO 8601
    due_at: str | None
    stopped_at: str | None  # when met/missed stopped the clock
    business_seconds_left: float | None  # negative when overdue (at the stop, once stopped)
    wall_seconds_left: float | None
    paused_seconds: float  # time not charged, counted like the target (working or calendar)
    target: str = ""  # e.g. "8h", "3bd", "15d"
    calendar: str = ""
    advisory: bool = False  # a miss is shown but is no breach
    count_from: str | None = None  # day targets: "receipt_day" | "next_business_day"
    ends_at: str | None = None  # day targets: "close_of_business" | "end_of_day"
    # A clock that fell due before it was extended keeps its breach; the extended
    # clock runs beside it. On the first: the extension's due moment; on the
    # second: the clock it runs beside.
    extended_due_at: str | None = None
    extends: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Clock:
    """One running or stopped clock with what the ladder needs beyond its state."""

    state: ClockState
    measure: Measure
    start: datetime
    pauses: Pauses
    target_seconds: float
    due: datetime

    def reached_at(self, share: float) -> datetime:
        """When ``share`` of the target was (or will be) used up; 1.0 is the deadline."""
        if share >= 1:
            return self.due
        return walk(self.measure, self.start, self.pauses, self.target_seconds * share)


def clock_specs(case: Case, rules: Rules) -> list[tuple[str, str, ClockSpec, str]]:
    """(name, source, spec, calendar name) for every clock that may apply to a case
    (a holding-reply clock only runs once its sibling was extended: see ``evaluate``)."""
    found = []
    policy = rules.policy_for(case.state)
    if policy is not None:
        for key, stop, target in (
            ("first_response", "first_response", policy.first_response),
            ("resolution", "resolved", policy.resolution),
        ):
            if target is not None:
                counting = policy.counting.get(key) or Counting.default_for(target)
                spec = ClockSpec(
                    key, stop, target, pause_while_waiting=policy.pause_while_waiting, counting=counting
                )
                found.append((key, "team", spec, policy.calendar))
    for name in case.get("regimes", []) or []:
        regime = rules.regimes.get(name)
        if regime is None:
            continue
        for spec in PRESETS[regime.preset]:
            found.append((f"{name}.{spec.key}", name, spec, regime.calendar))
    return found


def case_clocks(case: Case, rules: Rules, now: datetime) -> list[ClockState]:
    return [clock.state for clock in evaluate(case, rules, now)]


def evaluate(case: Case, rules: Rules, now: datetime) -> list[Clock]:
    """Every clock of ``case`` as of ``now`` (none for a case without ``filed_at``)."""
    if not case.get("filed_at"):
        return []
    start = parse_time(case.get("filed_at"))
    periods = case_periods(case)
    clocks: list[Clock] = []
    for name, source, spec, cal in clock_specs(case, rules):
        if spec.when_extended and not (
            periods.extensions.get(f"{source}.{spec.when_extended}") or periods.holding_replies
        ):
            continue
        timing = _Timing(case, name, source, spec, rules.calendars.get(cal), periods, start, now)
        clocks += timing.clocks(rules.warn_share)
    return clocks


def due_at(case: Case, rules: Rules, clock: str, now: datetime) -> datetime | None:
    """When ``clock`` of ``case`` falls due at its current target (None: no such clock).
    A holding-reply clock is due whether or not it runs yet."""
    if not case.get("filed_at"):
        return None
    start, periods = parse_time(case.get("filed_at")), case_periods(case)
    for name, source, spec, cal in clock_specs(case, rules):
        if name == clock:
            timing = _Timing(case, name, source, spec, rules.calendars.get(cal), periods, start, now)
            return timing.segments()[-1][2]
    return None


class _Timing:
    """What every target of one clock shares: its start, stop and pauses."""

    def __init__(
        self,
        case: Case,
        name: str,
        source: str,
        spec: ClockSpec,
        calendar: BusinessCalendar,
        periods: Periods,
        start: datetime,
        now: datetime,
    ) -> None:
        self.case, self.name, self.source, self.spec = case, name, source, spec
        self.calendar, self.periods, self.start, self.now = calendar, periods, start, now
        self.stop = _stop_time(case, spec.stop, periods)
        self.applicable = _applicable(periods, name, spec)
        self.pauses = merge_pauses(self.applicable, start, self.stop, now)
        self._dues: dict[Target, tuple[float, datetime]] = {}

    def due(self, target: Target) -> tuple[float, datetime]:
        """(the target as an amount of its measure, its due moment), once per target."""
        if target not in self._dues:
            spec = self.spec
            self._dues[target] = due_moment(
                target, spec.counting, spec.roll_to_working_day, self.calendar, self.start, self.pauses
            )
        return self._dues[target]

    def segments(self) -> list[tuple[str, int, datetime, str | None]]:
        """(clock name, extensions in force, due, the clock it runs beside) per
        stretch: an extension recorded by the due moment lengthens the clock; one
        recorded after it starts a new clock beside the missed one."""
        spec = self.spec
        times = self.periods.extensions.get(self.name, [])[: len(spec.extensions)]
        label, beside, level = self.name, None, 0
        out = []
        due = self.due(spec.target)[1]
        for number, at in enumerate(times, 1):
            if at > due:
                out.append((label, level, due, beside))
                label, beside = f"{self.name}.extension{number}", label
            level = number
            due = self.due(spec.extensions[level - 1].target)[1]
        out.append((label, level, due, beside))
        return out

    def clocks(self, warn_share: float) -> list[Clock]:
        segments = self.segments()
        return [
            self._clock(
                label, level, beside, segments[i + 1][2] if i + 1 < len(segments) else None, warn_share
            )
            for i, (label, level, _due, beside) in enumerate(segments)
        ]

    def _clock(
        self, label: str, level: int, beside: str | None, extended: datetime | None, warn_share: float
    ) -> Clock:
        spec, calendar, start, now, stop = self.spec, self.calendar, self.start, self.now, self.stop
        target = spec.extensions[level - 1].target if level else spec.target
        measure = measure_for(target, calendar)
        target_seconds, due = self.due(target)
        end = stop or now
        paused = sum((measure.seconds_between(a, min(b, end)) for a, b in self.pauses if a < end), 0.0)
        if stop is not None:
            state = "met" if stop <= due else "missed"
        elif due <= now:
            state = "breached"
        elif any(a <= now and (b is None or now < b) for a, b in self.applicable):
            state = "paused"
        else:
            used = measure.seconds_between(start, now) - paused
            state = "warning" if used >= warn_share * target_seconds else "ok"
        day_target = target.unit in DAY_UNITS
        clock_state = ClockState(
            case_id=self.case.id,
            clock=label,
            source=self.source,
            state=state,
            started_at=format_time(start),
            due_at=format_time(due),
            stopped_at=format_time(stop) if stop else None,
            business_seconds_left=round(calendar.seconds_between(end, due), 3),
            wall_seconds_left=round(due.timestamp() - end.timestamp(), 3),
            paused_seconds=round(paused, 3),
            target=str(target),
            calendar=calendar.name,
            advisory=spec.advisory,
            count_from=spec.counting.count_from if day_target else None,
            ends_at=spec.counting.ends_at if day_target else None,
            extended_due_at=format_time(extended) if extended else None,
            extends=beside,
        )
        return Clock(clock_state, measure, start, self.pauses, target_seconds, due)


def _stop_time(case: Case, stop: str, periods: Periods) -> datetime | None:
    """When the clock stopped: the resolution, or the first response / first holding
    reply if that came earlier (None: still running)."""
    resolved = case.get("resolved_at")
    times = [parse_time(resolved)] if resolved else []
    if stop == "first_response" and case.get("first_response_at"):
        times.append(parse_time(case.get("first_response_at")))
    elif stop == "holding_reply":
        times += periods.holding_replies[:1]
    return min(times) if times else None


def _applicable(periods: Periods, name: str, spec: ClockSpec) -> list[Interval]:
    """The paused intervals this clock honours."""
    raw = list(periods.inactive)
    if spec.pause_while_waiting:
        raw += periods.waiting
    if spec.excludable:
        raw += [(a, b) for clock, a, b in periods.excluded if clock in (None, name)]
    return raw
