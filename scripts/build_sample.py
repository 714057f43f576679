"""Build the bundled sample cases (top-level ``cases/``) through the real services.

    python scripts/build_sample.py               # rebuild cases/ from sample_stories.yaml
    python scripts/build_sample.py --out DIR     # write the case files somewhere else

Each story in ``scripts/sample_stories.yaml`` becomes a timeline (filed, assigned,
first contact, escalation, waiting, reclassification, resolution, closing,
reopening) with seeded random gaps that respect local business hours, played
through ``cmtool.services.lifecycle`` in a temporary workspace, one commit per
action, exactly as a team would have made it. The result must validate cleanly
before it replaces ``cases/``.

IDs are random by design (``model.ids.new_id`` draws from ``secrets``), so a re-run
gives new IDs: the committed files are the sample, this script is how they were made.
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import sys
import tempfile
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from cmtool.model.case import Case
from cmtool.model.timefmt import parse_time
from cmtool.services import lifecycle, survey
from cmtool.services.context import Clock as ActionClock
from cmtool.services.context import Context
from cmtool.services.validation import validate_workspace
from cmtool.services.workspace_ops import create_workspace
from cmtool.store.workspace import Workspace

HERE = Path(__file__).resolve().parent
STORIES = HERE / "sample_stories.yaml"
DEFAULT_OUT = HERE.parent / "cases"
# Nothing in the sample happens after this: the tests' fixed clock is 17:30 that day.
CUTOFF = parse_time("2025-11-21T17:00:00+08:00")
FILED_FIELDS = (
    "title",
    "description",
    "channel",
    "category",
    "priority",
    "customer",
    "contact",
    "customer_tier",
    "product",
    "region",
    "regimes",
    "tags",
)
STORY_KEYS = {
    *FILED_FIELDS,
    "filed",
    "owner",
    "status",
    "contact_note",
    "escalate",
    "internal",
    "wait",
    "edit",
    "root_cause",
    "resolution",
    "remedy",
    "redress",
    "upheld",
    "close",
    "reopen",
    "survey",
}


# Mirrors rules.yaml (categories -> team, teams -> lead) so reports, routing and
# SLA escalations on the sample make sense; tests/test_sample.py checks they agree.
TEAM_OF_CATEGORY = {
    "product_quality": "quality",
    "safety": "quality",
    "service_attitude": "service",
    "logistics": "logistics",
    "billing": "billing",
    "false_advertising": "compliance",
    "privacy": "compliance",
}
LEAD_OF_TEAM = {
    "quality": "dana",
    "service": "wang.fang",
    "logistics": "wang.fang",
    "billing": "dana",
    "compliance": "dana",
}
# The front desk (service team) logs every complaint, in the customer's language.
INTAKE = {"zh": "li.na", "en": "bob"}
ZONE_OF_REGION = {
    **dict.fromkeys(
        ("Shanghai", "Beijing", "Guangzhou", "Shenzhen", "Hangzhou", "Chengdu"), ZoneInfo("Asia/Shanghai")
    ),
    **dict.fromkeys(("London", "Manchester", "Leeds", "Birmingham"), ZoneInfo("Europe/London")),
    **dict.fromkeys(("New York", "Boston"), ZoneInfo("America/New_York")),
    "Chicago": ZoneInfo("America/Chicago"),
}

HOUR, DAY = 60, 24 * 60
# Gaps in minutes (low, high) by priority: how fast a real team moves on each step.
ASSIGN = {"critical": (5, 25), "high": (15, 90), "normal": (30, 240), "low": (60, 480)}
CONTACT = {
    "critical": (10, 60),
    "high": (45, 5 * HOUR),
    "normal": (2 * HOUR, DAY),
    "low": (8 * HOUR, 2 * DAY),
}
STEP = {
    "critical": (20, 4 * HOUR),
    "high": (HOUR, DAY),
    "normal": (2 * HOUR, 2 * DAY),
    "low": (4 * HOUR, 3 * DAY),
}
RESOLVE = {
    "critical": (DAY, 3 * DAY),
    "high": (2 * DAY, 6 * DAY),
    "normal": (3 * DAY, 12 * DAY),
    "low": (4 * DAY, 18 * DAY),
}
REPLY = (DAY, 6 * DAY)  # the customer answers a question
CLOSE = (3 * DAY, 10 * DAY)  # the customer accepted the resolution
REOPEN = (10 * DAY, 30 * DAY)  # the customer comes back
INVITE = (DAY, 2 * DAY)  # survey invitations go out a day after closing (rules.yaml survey:)
ANSWER = (2 * HOUR, 4 * DAY)  # the customer fills in the survey
SYSTEM = "cmtool"  # the tool's own actor (rules.yaml audit.system_actors)
DEFAULT_CONTACT = {
    "zh": "已致电客户，确认问题详情并告知处理进度。",
    "en": "Called the customer to confirm the details and explain the next steps.",
}
CJK = re.compile(r"[\u4e00-\u9fff]")


class Clock:
    """The story's local time, moved forward by seeded random gaps into working hours."""

    def __init__(self, start: datetime, rng: random.Random, critical: bool) -> None:
        self.now, self.rng = start, rng
        # Critical cases are handled by the on-call rota, weekends and evenings included.
        self.opens, self.closes = (8, 22) if critical else (9, 18)
        self.weekends = critical

    def advance(self, gap: tuple[int, int]) -> datetime:
        moment = self.now + timedelta(minutes=self.rng.randint(*gap))
        while not self._working(moment):
            next_day = moment.hour >= self.closes or not self._weekday(moment)
            moment = moment.replace(hour=self.opens, minute=0, second=0)
            moment += timedelta(days=1 if next_day else 0, minutes=self.rng.randint(2, 40))
        self.now = moment.replace(second=self.rng.randint(0, 59))
        return self.now

    def _weekday(self, moment: datetime) -> bool:
        return self.weekends or moment.weekday() < 5

    def _working(self, moment: datetime) -> bool:
        return self._weekday(moment) and self.opens <= moment.hour < self.closes


class Story:
    """Plays one story through the lifecycle services; ``self.case`` is the result."""

    def __init__(self, ws: Workspace, spec: dict[str, Any]) -> None:
        unknown = set(spec) - STORY_KEYS
        if unknown:  # a typo would silently drop a chapter of the story
            raise SystemExit(f"story {spec.get('title')!r}: unknown keys {sorted(unknown)}")
        self.ws, self.spec = ws, spec
        self.team = TEAM_OF_CATEGORY[spec["category"]]
        zone = ZONE_OF_REGION[spec["region"]]
        filed = datetime.strptime(spec["filed"], "%Y-%m-%d %H:%M").replace(tzinfo=zone)
        rng = random.Random(zlib.crc32(spec["title"].encode("utf-8")))
        self.clock = Clock(filed, rng, spec["priority"] == "critical")
        # Default texts speak the customer's language.
        self.lang = "zh" if CJK.search(spec["customer"]) else "en"
        self.case: Case | None = None

    def _ctx(self, actor: str) -> Context:
        if self.clock.now > CUTOFF:
            raise SystemExit(
                f"story {self.spec['title']!r} runs past {CUTOFF.isoformat()}; file it earlier or shorten it"
            )
        return Context(self.ws, actor, ActionClock(self.clock.now), f"{actor}@example.com")

    def _do(
        self, gap: tuple[int, int] | None, actor: str | None, action: Callable[..., Case], *args: Any
    ) -> None:
        if gap is not None:
            self.clock.advance(gap)
        assert self.case is not None
        self.case = action(self._ctx(actor or self.owner), self.case.id, *args)

    @property
    def owner(self) -> str:
        assert self.case is not None
        return str(self.case.get("assignee"))

    def play(self) -> Case:
        spec, prio = self.spec, self.spec["priority"]
        fields = {name: spec[name] for name in FILED_FIELDS if name in spec}
        fields["team"] = self.team
        self.case = lifecycle.file_case(self._ctx(INTAKE[self.lang]), fields)
        final = spec["status"]
        if final == "new":
            return self.case
        self._do(ASSIGN[prio], LEAD_OF_TEAM[self.team], lifecycle.assign, spec["owner"])
        if final == "assigned":
            return self.case
        contact = spec.get("contact_note") or DEFAULT_CONTACT[self.lang]
        self._do(CONTACT[prio], None, lifecycle.note, contact)
        if "edit" in spec:
            updates = {k: v for k, v in spec["edit"].items() if k != "reason"}
            self._do(STEP[prio], None, lifecycle.edit, updates, spec["edit"].get("reason"))
        if "escalate" in spec:
            esc = spec["escalate"]
            self._do(STEP[prio], None, lifecycle.escalate, esc["to"], esc["reason"])
        if "internal" in spec:
            self._do(STEP[prio], None, lifecycle.note, spec["internal"], True)
        if "wait" in spec:
            self._do(STEP[prio], None, lifecycle.wait, spec["wait"]["reason"])
            if final == "waiting":
                return self.case
            self._do(REPLY, None, lifecycle.resume, spec["wait"]["reply"])
        if final == "in_progress" and "reopen" not in spec:
            return self.case
        self._resolve(spec, RESOLVE[prio])
        if final == "resolved" and "reopen" not in spec:
            return self.case
        self._do(CLOSE, None, lifecycle.close, spec.get("close"))
        if "reopen" in spec:
            self._reopen(spec["reopen"], final, prio)
        if "survey" in spec:
            self._survey(spec["survey"])
        return self.case

    def _resolve(self, chapter: dict[str, Any], gap: tuple[int, int]) -> None:
        if chapter.get("root_cause"):
            self._do(gap, None, lifecycle.edit, {"root_cause": chapter["root_cause"]})
            gap = (10, 2 * HOUR)
        self._do(
            gap,
            None,
            lifecycle.resolve,
            chapter["resolution"],
            chapter.get("remedy"),
            chapter.get("redress"),
            chapter.get("upheld"),
        )

    def _survey(self, answer: dict[str, Any]) -> None:
        # The invitation is sent and the answer imported by the tool itself, as
        # `cmtool survey due --mark-sent` and `cmtool survey import` would.
        assert self.case is not None
        self.clock.advance(INVITE)
        due = survey.DueSurvey(
            self.case.id,
            self.case.get("customer"),
            self.case.get("contact"),
            self.case.get("closed_at"),
            self.case.get("category"),
            self.case.get("product"),
            self.case.get("title"),
        )
        survey.mark_invited(self._ctx(SYSTEM), [due])
        self._do(
            ANSWER, SYSTEM, survey.record_survey, answer.get("csat"), answer.get("nps"), answer.get("comment")
        )

    def _reopen(self, chapter: dict[str, Any], final: str, prio: str) -> None:
        # The customer (or a regulator) comes back to the case's owner.
        self._do(REOPEN, None, lifecycle.reopen, chapter["reason"])
        self._do(CONTACT[prio], None, lifecycle.note, chapter["note"])
        if final == "in_progress":
            return
        self._resolve(chapter, RESOLVE[prio])
        if final == "closed":
            self._do(CLOSE, None, lifecycle.close, None)


def build(out: Path, stories_path: Path = STORIES) -> list[Case]:
    """Play every story in a temporary workspace; copy the case files to ``out``."""
    stories = yaml.safe_load(stories_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="cmtool-sample-") as tmp:
        ws = create_workspace(Path(tmp) / "ws", "sample", "2025-06-01T09:00:00+08:00")
        cases = []
        for spec in stories:
            case = Story(ws, spec).play()
            if case.status.value != spec["status"]:
                raise SystemExit(
                    f"story {spec['title']!r} ended {case.status.value}, expected {spec['status']}"
                )
            cases.append(case)
        checked, problems = validate_workspace(ws)
        if problems or checked != len(stories):
            details = "\n".join(str(problem) for problem in problems)
            raise SystemExit(f"the built sample does not validate ({checked} files):\n{details}")
        _replace_cases(ws.cases_dir, out)
    return cases


def _replace_cases(source: Path, out: Path) -> None:
    """Swap the year folders of ``out`` for the new ones; nothing else there is touched."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.iterdir():
        if old.is_dir() and re.fullmatch(r"\d{4}", old.name):
            shutil.rmtree(old)
    (out / ".gitkeep").unlink(missing_ok=True)  # a placeholder only while cases/ was empty
    for year in sorted(source.iterdir()):
        if year.is_dir():
            shutil.copytree(year, out / year.name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the case files")
    parser.add_argument("--stories", type=Path, default=STORIES, help="the stories (YAML)")
    args = parser.parse_args(argv)
    cases = build(args.out, args.stories)
    statuses: dict[str, int] = {}
    for case in cases:
        statuses[case.status.value] = statuses.get(case.status.value, 0) + 1
    summary = ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    print(f"{len(cases)} sample cases written to {args.out} ({summary})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
