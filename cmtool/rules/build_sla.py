"""The timing sections: ``sla:`` (policies and their targets), ``regimes:``
(regulatory presets) and ``escalation:`` (the ladder)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from cmtool.rules.build_calendars import calendar_ref
from cmtool.rules.build_filing import build_condition
from cmtool.rules.build_reporting import regime_currency
from cmtool.rules.checker import Checker
from cmtool.rules.model import COUNT_FROM, ENDS_AT, Counting, Person, Policy, Regime, Step, Target

NOTIFY_WORDS = ("assignee", "team_lead", "manager")


def build_policies(c: Checker, data: Mapping[str, Any], calendars: Mapping[str, Any]) -> tuple[Policy, ...]:
    sla = c.mapping(data.get("sla"), "sla")
    default_calendar = sla.get("calendar")
    pause = sla.get("pause_while_waiting", True)
    if not isinstance(pause, bool):
        c.bad("sla.pause_while_waiting", "must be true or false")
    out = []
    for index, spec in enumerate(c.seq(sla.get("policies"), "sla.policies")):
        path = f"sla.policies[{index}]"
        spec = c.mapping(spec, path)
        calendar = calendar_ref(c, spec.get("calendar", default_calendar), f"{path}.calendar", calendars)
        targets, counting = {}, {}
        inherited = _counting_choices(c, spec, path)
        for clock in ("first_response", "resolution"):
            targets[clock], counting[clock] = _clock_target(c, spec, clock, f"{path}.{clock}", inherited)
        if not any(targets.values()):
            c.bad(path, "needs first_response: and/or resolution: (e.g. 8h, 3bd)")
        elif inherited and not any(t and t.unit in DAY_UNITS for t in targets.values()):
            c.bad(path, "count_from: and ends_at: apply to day targets (bd, d, w); this policy has none")
        policy_pause = spec.get("pause_while_waiting", pause)
        out.append(
            Policy(
                str(spec.get("name") or f"policy {index + 1}"),
                build_condition(c, spec.get("when"), f"{path}.when", allow_keywords=False),
                calendar,
                targets["first_response"],
                targets["resolution"],
                policy_pause is True,
                MappingProxyType(counting),
            )
        )
    return tuple(out)


def build_regimes(c: Checker, data: Mapping[str, Any], calendars: Mapping[str, Any]) -> dict[str, Regime]:
    from cmtool.sla.regimes import PRESETS

    out = {}
    for name, spec in c.mapping(data.get("regimes"), "regimes").items():
        path = f"regimes.{name}"
        spec = c.mapping(spec, path)
        preset = spec.get("preset", name)
        if preset not in PRESETS:
            c.bad(f"{path}.preset", f"unknown preset {preset!r} (presets: {', '.join(PRESETS)})")
        calendar = calendar_ref(c, spec.get("calendar"), f"{path}.calendar", calendars)
        when = (
            build_condition(c, spec["apply_when"], f"{path}.apply_when") if spec.get("apply_when") else None
        )
        currency = regime_currency(c, spec, path)
        out[str(name)] = Regime(str(name), str(preset), calendar, when, currency)
    return out


def build_ladder(c: Checker, data: Mapping[str, Any], people: Mapping[str, Person]) -> tuple[Step, ...]:
    out: list[Step] = []
    for index, spec in enumerate(c.seq(data.get("escalation"), "escalation")):
        path = f"escalation[{index}]"
        spec = c.mapping(spec, path)
        share = c.convert(f"{path}.at", _share, spec.get("at", "100%"))
        after = 0.0
        if spec.get("after") is not None:
            target = c.convert(f"{path}.after", Target.parse, spec.get("after"))
            if target and target.unit not in ("m", "h", "d", "w"):
                c.bad(f"{path}.after", "use wall time: m, h, d or w")
            elif target:
                after = target.amount * {"m": 60, "h": 3600, "d": 86400, "w": 604800}[target.unit]
        level = spec.get("level", 0)
        if not isinstance(level, int) or isinstance(level, bool) or level < 0:
            c.bad(f"{path}.level", "must be 0 (a warning) or an escalation level 1, 2, ...")
            level = 0
        notify = c.words(spec.get("notify"), f"{path}.notify")
        for i, who in enumerate(notify):
            if who not in NOTIFY_WORDS and people and who not in people:
                c.bad(
                    f"{path}.notify[{i}]",
                    f"{who!r} is neither {', '.join(NOTIFY_WORDS)} nor a person under people:",
                )
        step = Step(str(spec.get("step") or f"step{index + 1}"), share or 1.0, after, notify, level)
        if out and (step.share, step.after_seconds) <= (out[-1].share, out[-1].after_seconds):
            c.bad(path, "each rung must come later than the one above it (at:, then after:)")
        out.append(step)
    return tuple(out)


def _share(value: Any) -> float:
    text = str(value).strip()
    number = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not 0 < number <= 1:
        raise ValueError(f"{value!r} must be a share of the target, above 0% and at most 100%")
    return number


DAY_UNITS = ("bd", "d", "w")
TARGET_KEYS = ("target", "count_from", "ends_at")
COUNTING_CHOICES = {"count_from": COUNT_FROM, "ends_at": ENDS_AT}


def _clock_target(
    c: Checker, policy: Mapping[str, Any], clock: str, path: str, inherited: Mapping[str, str]
) -> tuple[Target | None, Counting]:
    """A policy clock written ``resolution: 10bd`` or ``resolution: {target: 10bd,
    count_from: receipt_day, ends_at: end_of_day}``; ``inherited`` holds the policy's
    own ``count_from:``/``ends_at:``, which apply to both its clocks."""
    raw = policy.get(clock)
    options: Mapping[str, Any] = {}
    if isinstance(raw, Mapping):
        options = raw
        for key in raw:
            if key not in TARGET_KEYS:
                c.bad(f"{path}.{key}", f"unknown key (a clock takes {', '.join(TARGET_KEYS)})")
        if raw.get("target") is None:
            c.bad(path, "needs target: (e.g. 10bd)")
        raw = raw.get("target")
    target = None if raw is None else c.convert(f"{path}.target" if options else path, Target.parse, raw)
    own = _counting_choices(c, options, path)
    if own and target is not None and target.unit not in DAY_UNITS:
        c.bad(path, f"count_from: and ends_at: apply to day targets (bd, d, w), not {target}")
    default = Counting.default_for(target)
    chosen = {**inherited, **own}
    return target, Counting(
        chosen.get("count_from", default.count_from), chosen.get("ends_at", default.ends_at)
    )


def _counting_choices(c: Checker, spec: Mapping[str, Any], path: str) -> dict[str, str]:
    """The valid ``count_from:``/``ends_at:`` written in ``spec`` (bad ones reported)."""
    found = {}
    for key, allowed in COUNTING_CHOICES.items():
        if key in spec:
            if spec[key] in allowed:
                found[key] = str(spec[key])
            else:
                c.bad(f"{path}.{key}", f"{spec[key]!r} is not one of {', '.join(allowed)}")
    return found
