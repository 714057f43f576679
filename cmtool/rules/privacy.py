"""The ``privacy:`` section of rules.yaml: what is personal, how long records are
kept, who may erase early and who sees which personal fields.

    privacy:
      key_store: ${CMTOOL_KEY_STORE}     # read by the store (cmtool.store.personal)
      personal: [customer, contact, description, resolution, survey_comment, extra, notes]
      commit_titles: false
      retention:
        default: {years: 3}                 # cases under no regime with a rule here
        fca_disp: {years: 3, hold: true}    # DISP 1.9.1R: keep at least 3 years
      erase_override: [manager]
      need_to_know:
        agent: [customer, contact, description, notes, resolution]

A case's retention is the longest rule among its regimes (``default`` when none
of them has one): the record is kept that many years after it closed, then
``cmtool privacy purge`` destroys its key. A rule with ``hold: true`` is a legal
duty to keep: ``cmtool privacy erase`` refuses before it ends unless the actor's
role is in ``erase_override``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from cmtool.model.privacy import DEFAULT_PERSONAL, SEALABLE
from cmtool.rules.checker import Checker

KEYS = ("key_store", "personal", "commit_titles", "retention", "erase_override", "need_to_know")
ALL = "*"


@dataclass(frozen=True)
class Retention:
    rule: str  # "default" or a regime's name
    years: float
    hold: bool = False

    def ends(self, closed_at: datetime) -> datetime:
        """When keeping ends: ``years`` after closing, by the calendar (29 Feb -> 28 Feb)."""
        whole = int(self.years)
        try:
            moment = closed_at.replace(year=closed_at.year + whole)
        except ValueError:
            moment = closed_at.replace(year=closed_at.year + whole, day=28)
        return moment + timedelta(days=round((self.years - whole) * 365.25))


@dataclass(frozen=True)
class PrivacyPolicy:
    personal: frozenset[str] = frozenset(DEFAULT_PERSONAL)
    retention: Mapping[str, Retention] = field(default_factory=dict)
    erase_override: frozenset[str] = frozenset()
    need_to_know: Mapping[str, frozenset[str]] = field(default_factory=dict)  # role -> fields

    def retention_of(self, regimes: Collection[str]) -> Retention | None:
        """The longest rule among the case's regimes, else ``default``."""
        rules = [self.retention[r] for r in regimes if r in self.retention]
        if not rules:
            return self.retention.get("default")
        return max(rules, key=lambda r: (r.years, r.hold))

    def holds(self, regimes: Collection[str]) -> list[Retention]:
        rules = [self.retention[r] for r in regimes if r in self.retention] or [self.retention.get("default")]
        return [r for r in rules if r is not None and r.hold]

    def visible(self, role: str | None) -> frozenset[str] | None:
        """The personal fields ``role`` sees in clear; None: all of them."""
        if role is None or role not in self.need_to_know:
            return None
        allowed = self.need_to_know[role]
        return None if ALL in allowed else allowed


def privacy_policy(raw: Mapping[str, Any]) -> PrivacyPolicy:
    """The policy of a checked rules.yaml (its raw sections)."""
    c = Checker({}, "rules.yaml")
    return build_privacy(c, raw, (), ())


def build_privacy(
    c: Checker, data: Mapping[str, Any], regimes: Collection[str], roles: Collection[str]
) -> PrivacyPolicy:
    """Check the section (problems go to ``c``); ``regimes``/``roles`` empty: not checked."""
    section = c.mapping(data.get("privacy"), "privacy")
    for key in section:
        if key not in KEYS:
            c.bad(f"privacy.{key}", f"unknown key (known: {', '.join(KEYS)})")
    store = section.get("key_store")
    if store is not None and (not isinstance(store, str) or "\n" in store):
        c.bad("privacy.key_store", "must be a path or ${VARIABLE} on one line, or null")
    personal = (
        DEFAULT_PERSONAL
        if section.get("personal") is None
        else c.words(section["personal"], "privacy.personal")
    )
    for index, name in enumerate(personal):
        if name not in SEALABLE:
            c.bad(
                f"privacy.personal[{index}]",
                f"{name!r} cannot be sealed (may be: {', '.join(sorted(SEALABLE))})",
            )
    if not isinstance(section.get("commit_titles", False), bool):
        c.bad("privacy.commit_titles", "must be true or false")
    if section.get("commit_titles") is True and "title" in personal:
        c.bad(
            "privacy.commit_titles", "titles are sealed (personal: lists title), so commits cannot name them"
        )
    retention: dict[str, Retention] = {}
    for name, spec in c.mapping(section.get("retention"), "privacy.retention").items():
        path = f"privacy.retention.{name}"
        if regimes and name != "default" and name not in regimes:
            c.bad(path, f"no regime {name!r} (regimes: {', '.join(sorted(regimes))}; or default)")
        spec = c.mapping(spec, path)
        years = spec.get("years")
        if isinstance(years, bool) or not isinstance(years, (int, float)) or not 0 < years <= 100:
            c.bad(f"{path}.years", "must be a number of years above 0 and at most 100")
            continue
        if not isinstance(spec.get("hold", False), bool):
            c.bad(f"{path}.hold", "must be true or false")
        retention[str(name)] = Retention(str(name), float(years), spec.get("hold") is True)
    override = c.words(section.get("erase_override"), "privacy.erase_override")
    need: dict[str, frozenset[str]] = {}
    for role, fields in c.mapping(section.get("need_to_know"), "privacy.need_to_know").items():
        path = f"privacy.need_to_know.{role}"
        if roles and role not in roles:
            c.bad(path, f"unknown role {role!r} (roles: {', '.join(sorted(roles))})")
        names = c.words(fields, path)
        for index, name in enumerate(names):
            if name != ALL and name not in personal:
                c.bad(
                    f"{path}[{index}]", f"{name!r} is not a personal field (personal: {', '.join(personal)})"
                )
        need[str(role)] = frozenset(names)
    for index, role in enumerate(override):
        if roles and role not in roles:
            c.bad(f"privacy.erase_override[{index}]", f"unknown role {role!r}")
    return PrivacyPolicy(
        frozenset(personal), MappingProxyType(retention), frozenset(override), MappingProxyType(need)
    )
