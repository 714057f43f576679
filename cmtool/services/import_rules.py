"""Imported cases go through the rules, as if filed: category, priority, regimes, routing.

Where the sheet itself says what a complaint is about (a category or
complaint-type column, else a product column), its words become categories:
the taxonomy's own key where a word names one (by key, label or keywords),
otherwise a new taxonomy entry that the import adds to rules.yaml in its commit.
An Owner column names people: a name rules.yaml knows (by name, e-mail or the
same words) becomes that person, as does one ``--owner-map`` maps; any other
name cannot be an assignee (only people can), so it is kept under ``extra``,
listed in the summary, and the case is routed as one without an owner. Each
decision is an event naming its rule, dated at the case's filing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cmtool.errors import DataError, UsageError
from cmtool.importing.headers import normalize
from cmtool.importing.rows import Record
from cmtool.model.case import Case
from cmtool.model.enums import OPEN_STATUSES, Status
from cmtool.model.events import Event
from cmtool.rules import engine
from cmtool.rules.model import Category, Rules
from cmtool.store.casefiles import read_text
from cmtool.store.catalog import team_workload
from cmtool.store.rulesedit import category_key
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load

MAX_NEW_CATEGORIES = 40  # more distinct words than this are not a taxonomy


def owner_names(rules: Rules, owner_map: Path | None) -> dict[str, str] | None:
    """Sheet name (normalised) -> person; None when rules.yaml lists no people
    (then a sheet's owner is taken as written)."""
    given = _read_owner_map(owner_map)
    if not rules.people:
        return {normalize(k): v for k, v in given.items()} if given else None
    names: dict[str, str] = {}
    for person in rules.people.values():
        email = person.email or ""
        for alias in (person.name, email, email.split("@")[0]):
            if alias:
                names.setdefault(normalize(alias), person.name)
                names.setdefault(normalize(alias).replace(" ", ""), person.name)
    for sheet_name, person in given.items():
        if person not in rules.people:
            raise UsageError(
                f"--owner-map: {sheet_name!r} -> {person!r} is not a person in rules.yaml",
                hint=f"people: {', '.join(rules.people)}",
            )
        names[normalize(sheet_name)] = person
    return names


def _read_owner_map(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    if not path.is_file():
        raise UsageError(f"--owner-map {path}: no such file")
    data = load(read_text(path), str(path))
    if not isinstance(data, Mapping) or not all(isinstance(v, str) for v in data.values()):
        raise DataError(
            f"{path}: an owner map is a mapping of the sheet's names to people, e.g. 'Ann Lee: ann'"
        )
    return {str(k): v for k, v in data.items()}


@dataclass
class CategoryPlan:
    """What the sheet's category words become."""

    field_name: str | None  # the field whose words are the categories: category or product
    keys: dict[str, str] = field(default_factory=dict)  # sheet word -> taxonomy key
    why: dict[str, str] = field(default_factory=dict)  # sheet word -> how it was matched
    new: dict[str, str] = field(default_factory=dict)  # new taxonomy key -> label
    rows: Counter[str] = field(default_factory=Counter)  # taxonomy key -> rows
    dropped: bool = False  # too many words for a taxonomy: left to classification

    def lines(self) -> list[str]:
        if self.field_name is None:
            return []
        if self.dropped:
            return [
                f"categories: the {self.field_name} column holds more than {MAX_NEW_CATEGORIES} "
                "different words, too many for a taxonomy; they are kept and rules.yaml classifies"
            ]
        lines = [f"categories from the {self.field_name} column:"]
        for word, key in sorted(self.keys.items(), key=lambda item: -self.rows[item[1]]):
            lines.append(f"  {word!r} -> {key} ({self.why[word]}, {self.rows[key]} rows)")
        return lines


def plan_categories(records: list[Record], rules: Rules, field_name: str | None) -> CategoryPlan:
    """Match the sheet's words to the taxonomy and name the new entries; sets
    each record's category to its key."""
    plan = CategoryPlan(field_name)
    if field_name is None:
        return plan
    words = Counter(str(r.state[field_name]).strip() for r in records if r.state.get(field_name))
    known = {normalize(c.key): c.key for c in rules.categories}
    known.update({normalize(c.label): c.key for c in rules.categories})
    taken = {c.key for c in rules.categories}
    for word in words:
        if normalize(word) in known:
            plan.keys[word], plan.why[word] = known[normalize(word)], "the taxonomy's name"
        elif decision := engine.classify({"title": word}, rules):
            plan.keys[word], plan.why[word] = decision.value, decision.why
    unknown = [w for w in words if w not in plan.keys]
    if len(unknown) > MAX_NEW_CATEGORIES:
        plan.dropped = True
        for record in records:
            if field_name == "category" and record.state.get("category") not in plan.keys:
                record.extra["category"] = record.state.pop("category", None)
    else:
        for word in unknown:
            key = category_key(word, taken)
            plan.keys[word], plan.why[word], plan.new[key] = key, "new taxonomy entry", word
    for record in records:
        word = str(record.state.get(field_name) or "").strip()
        if word in plan.keys:
            record.state["category"] = plan.keys[word]
            plan.rows[plan.keys[word]] += 1
    return plan


def with_categories(rules: Rules, new: Mapping[str, str]) -> Rules:
    added = tuple(Category(key, label, None, ()) for key, label in new.items())
    return replace(rules, categories=rules.categories + added)


@dataclass
class RulesStep:
    """The rules' decisions for one imported case, after its filing event."""

    ws: Workspace
    rules: Rules
    actor: str
    loads: dict[str, dict[str, list[Any]]] = field(default_factory=dict)  # team -> member -> [open, last]
    sequence: int = 0

    def apply(self, case: Case, record: Record) -> Case:
        at = case.updated_at
        state = record.state
        if not state.get("category"):
            case = self._decide(case, engine.classify(case.state, self.rules), "classify", "category", at)
        if not state.get("priority"):
            case = self._decide(case, engine.prioritize(case.state, self.rules), "prioritize", "priority", at)
        for decision in engine.regimes_for(case.state, self.rules):
            change = {"regimes": (case.state.get("regimes"), [*(case.get("regimes") or []), decision.value])}
            case = case.with_event(
                Event(at, self.actor, "apply_regime", MappingProxyType(change), decision.why, decision.rule)
            )
        return self._route(case, state.get("assignee"), Status(state["status"]) in OPEN_STATUSES)

    def _decide(self, case: Case, decision: engine.Decision | None, action: str, name: str, at: str) -> Case:
        if decision is None or case.state.get(name) == decision.value:
            return case
        change = {name: (case.state.get(name), decision.value)}
        return case.with_event(
            Event(at, self.actor, action, MappingProxyType(change), decision.why, decision.rule)
        )

    def _route(self, case: Case, owner: str | None, stays_open: bool) -> Case:
        """The sheet's owner with the team routing gives; without an owner, the
        team's member routing picks, when rules.yaml assigns on filing."""
        team_name = engine.team_for(case.state, self.rules)
        team = self.rules.teams.get(team_name or "")
        if owner:
            assignee, note = owner, "owner in the source"
        elif team is not None and team.members and self.rules.assign_on_file:
            assignee = self._pick(team, stays_open)
            note = f"routed to team {team.name} ({team.strategy.replace('_', ' ')})"
        else:
            return case
        changes: dict[str, tuple[Any, Any]] = {}
        if team_name and case.state.get("team") != team_name:
            changes["team"] = (case.state.get("team"), team_name)
            note += "" if owner is None else f"; team {team_name} by routing"
        changes["assignee"] = (case.state.get("assignee"), assignee)
        changes["status"] = (case.status.value, Status.ASSIGNED.value)
        rule = f"routing.{team.name}.{team.strategy}" if team is not None and "team" in changes else None
        event = Event(case.updated_at, self.actor, "assign", MappingProxyType(changes), note, rule)
        return case.with_event(event)

    def _pick(self, team: Any, stays_open: bool) -> str:
        if team.name not in self.loads:
            open_statuses = [s.value for s in OPEN_STATUSES]
            found = team_workload(self.ws, team.name, team.members, open_statuses)
            self.loads[team.name] = {m: [w.open_cases, w.last_assigned_at] for m, w in found.items()}
        loads = self.loads[team.name]
        chosen = engine.pick_assignee(team, {m: (v[0], v[1]) for m, v in loads.items()})
        # "~" sorts after every timestamp: later than any assignment before the
        # import, and in the order of the import.
        self.sequence += 1
        loads[chosen][1] = f"~{self.sequence:09d}"
        loads[chosen][0] += 1 if stays_open else 0
        return chosen
