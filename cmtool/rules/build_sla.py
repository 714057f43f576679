"""The timing sections: ``sla:`` (policies and their targets), ``regimes:``
(regulatory presets) and ``escalation:`` (the ladder)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmtool.rules.build_calendars import calendar_ref
from cmtool.rules.build_filing import build_condition
from cmtool.rules.build_reporting import regime_currency
from cmtool.rules.checker import Checker
from cmtool.rules.model import Person, Policy, Regime, Step, Target

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
        targets = {}
        for clock in ("first_response", "resolution"):
            raw = spec.get(clock)
            targets[clock] = None if raw is None else c.convert(f"{path}.{clock}", Target.parse, raw)
        if not any(targets.values()):
            c.bad(path, "needs first_response: and/or resolution: (e.g. 8h, 3bd)")
        policy_pause = spec.get("pause_while_waiting", pause)
        out.append(
            Policy(
                str(spec.get("name") or f"policy {index + 1}"),
                build_condition(c, spec.get("when"), f"{path}.when", allow_keywords=False),
                calendar,
                targets["first_response"],
                targets["resolution"],
                policy_pause is True,
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
