"""The ``survey:`` section: when to ask a customer how it went, and with which message.

    survey:
      delay_hours: 24      # ask this long after a case is closed
      max_age_days: 30     # ...but not about cases closed longer ago than this
      cooldown_days: 90    # ask one customer at most once in this many days
      template: survey_invitation.txt.j2   # in templates/messages/

Checked with the rest of rules.yaml (``validate`` and every command), and read by
the survey commands.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from cmtool.rules.checker import Checker

DEFAULTS = {"delay_hours": 24, "max_age_days": 30, "cooldown_days": 90}
# Caps (about ten years): a bigger delay overflows the date arithmetic.
LIMITS = {"delay_hours": 10 * 366 * 24, "max_age_days": 10 * 366, "cooldown_days": 10 * 366}
DEFAULT_TEMPLATE = "survey_invitation.txt.j2"


@dataclass(frozen=True)
class SurveySettings:
    delay: timedelta
    max_age: timedelta
    cooldown: timedelta
    template: str


def build_survey(c: Checker, data: Mapping[str, Any]) -> SurveySettings:
    section = c.mapping(data.get("survey"), "survey")
    values = {}
    for key, default in DEFAULTS.items():
        value = section.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= LIMITS[key]:
            c.bad(f"survey.{key}", f"{value!r} is not a number from 0 to {LIMITS[key]}")
            value = default
        values[key] = value
    template = section.get("template", DEFAULT_TEMPLATE)
    if not isinstance(template, str) or "/" in template or "\\" in template or template.startswith("."):
        c.bad("survey.template", f"{template!r} must be a file name in templates/messages/")
        template = DEFAULT_TEMPLATE
    return SurveySettings(
        timedelta(hours=values["delay_hours"]),
        timedelta(days=values["max_age_days"]),
        timedelta(days=values["cooldown_days"]),
        template,
    )
