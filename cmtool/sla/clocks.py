"""SLA clocks of a case, computed from its events and the rules as of ``now``.

Deadlines are never stored: a clock starts at ``filed_at``, counts working time
on its calendar (or wall time for day targets), skips paused periods (waiting
on the customer, if the policy says so; excluded periods such as an external
appraisal; time spent resolved before a reopen), and stops at the first
response or the resolution. Extensions recorded as events pick a longer target.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta

from cmtool.calendar import BusinessCalendar, Measure, WallTime
from cmtool.model.case import Case
from cmtool.model.timefmt import format_time, parse_time
from cmtool.rules.model import Rules, Target
from cmtool.sla.periods import Periods, case_periods
from cmtool.sla.regimes import PRESETS, ClockSpec

END_OF_DAY = time(23, 59, 59)
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
    paused_seconds: float  # time not charged, counted like the target (working or wall)
    target: str = ""  # e.g. "8h", "3bd", "15d"
    calendar: str = ""
    advisory: bool = False  # a miss is shown but is no breach

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Clock:
    """One running or stopped clock with what the ladder needs beyond its state."""

    state: ClockState
    measure: Measure
    start: datetime
    pauses: tuple[tuple[datetime, datetime], ...]
    target_seconds: float
    due: datetime

    def reached_at(self, share: float) -> datetime:
        """When ``share`` of the target was (or will be) used up; 1.0 is the deadline."""
        if share >= 1:
            return self.due
        return _walk(self.measure, self.start, self.pauses, self.target_seconds * share)


_WALL: dict[str, WallTime] = {}


def _wall(calendar: BusinessCalendar) -> WallTime:
    key = calendar.spec.timezone
    return _WALL.get(key) or _WALL.setdefault(key, WallTime(key))


def clock_specs(case: Case, rules: Rules) -> list[tuple[str, str, ClockSpec, str]]:
    """(name, source, spec, calendar name) for every clock that applies to a case."""
    found = []
    policy = rules.policy_for(case.state)
    if policy is not None:
        for key, stop, target in (
            ("first_response", "first_response", policy.first_response),
            ("resolution", "resolved", policy.resolution),
        ):
            if target is not None:
                spec = ClockSpec(key, stop, target, pause_while_waiting=policy.pause_while_waiting)
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
    return [
        _evaluate(case, name, source, spec, rules.calendars.get(cal), periods, start, now, rules)
        for name, source, spec, cal in clock_specs(case, rules)
    ]


def _evaluate(
    case: Case,
    name: str,
    source: str,
    spec: ClockSpec,
    calendar: BusinessCalendar,
    periods: Periods,
    start: datetime,
    now: datetime,
    rules: Rules,
) -> Clock:
    level = min(periods.extensions.get(name, 0), len(spec.extensions))
    target = spec.extensions[level - 1].target if level else spec.target
    measure: Measure = calendar if target.unit in ("m", "h", "bd") else _wall(calendar)
    target_seconds = _target_seconds(target, calendar, start)
    stop = _stop_time(case, spec.stop)
    end = stop or now
    applicable = _applicable(periods, name, spec)
    pauses = _merge(applicable, start, stop, now)
    due = _walk(measure, start, pauses, target_seconds)
    if spec.roll_to_working_day:
        day = due.astimezone(calendar.zone).date()
        if not calendar.is_working_day(day):
            due = datetime.combine(calendar.working_day_on_or_after(day), END_OF_DAY, calendar.zone)
    paused = sum((measure.seconds_between(a, min(b, end)) for a, b in pauses if a < end), 0.0)
    if stop is not None:
        state = "met" if stop <= due else "missed"
    elif due <= now:
        state = "breached"
    elif any(a <= now and (b is None or now < b) for a, b in applicable):
        state = "paused"
    else:
        used = measure.seconds_between(start, now) - paused
        state = "warning" if used >= rules.warn_share * target_seconds else "ok"
    clock_state = ClockState(
        case_id=case.id,
        clock=name,
        source=source,
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
    )
    return Clock(clock_state, measure, start, pauses, target_seconds, due)


def _target_seconds(target: Target, calendar: BusinessCalendar, start: datetime) -> float:
    """The target as an amount of the clock's measure, counted from ``start``."""
    if target.unit in ("m", "h"):
        return target.amount * (60 if target.unit == "m" else 3600)
    if target.unit == "bd":
        day = calendar.nth_working_day_after(calendar.business_day_of(start), int(target.amount))
        return max(calendar.seconds_between(start, calendar.end_of_day(day)), 0.0)
    days = int(target.amount) * (7 if target.unit == "w" else 1)
    local_day = start.astimezone(calendar.zone).date()
    deadline = datetime.combine(local_day + timedelta(days=days), END_OF_DAY, calendar.zone)
    return deadline.timestamp() - start.timestamp()


def _stop_time(case: Case, stop: str) -> datetime | None:
    resolved = case.get("resolved_at")
    times = [resolved] if stop == "resolved" else [case.get("first_response_at"), resolved]
    parsed = [parse_time(t) for t in times if t]
    return min(parsed) if parsed else None


Interval = tuple[datetime, "datetime | None"]  # end None: still going on


def _applicable(periods: Periods, name: str, spec: ClockSpec) -> list[Interval]:
    """The paused intervals this clock honours."""
    raw = list(periods.inactive)
    if spec.pause_while_waiting:
        raw += periods.waiting
    if spec.excludable:
        raw += [(a, b) for clock, a, b in periods.excluded if clock in (None, name)]
    return raw


def _merge(
    raw: list[Interval], start: datetime, stop: datetime | None, now: datetime
) -> tuple[tuple[datetime, datetime], ...]:
    """Sorted, merged, concrete intervals within [start, stop]; one still going on
    ends ``now`` (the earliest it can end)."""
    merged: list[tuple[datetime, datetime]] = []
    for a, b in sorted((a, max(b or now, a)) for a, b in raw):
        a, b = max(a, start), (min(b, stop) if stop else b)
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)


def _walk(
    measure: Measure,
    start: datetime,
    pauses: tuple[tuple[datetime, datetime], ...],
    amount: float,
) -> datetime:
    """The instant ``amount`` of counted time after ``start``, skipping ``pauses``."""
    moment, left = start, amount
    for a, b in pauses:
        if b <= moment:
            continue
        if a > moment:
            segment = measure.seconds_between(moment, a)
            if segment >= left:
                return measure.add(moment, left)
            left -= segment
        moment = max(moment, b)
    return measure.add(moment, left)
