"""Erasure by crypto-shredding: `privacy erase` (a person's request) and `privacy
purge` (retention ended). Each records an event per case, in one commit, *then*
destroys the cases' keys: the history keeps every commit, event and hash, and
what was personal in it becomes unreadable in every clone and remote.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from cmtool.errors import InvalidTransition, NotFound, UsageError
from cmtool.model.case import Case
from cmtool.model.events import Event
from cmtool.model.privacy import NOTES
from cmtool.model.timefmt import parse_time
from cmtool.rules.loader import load_rules
from cmtool.rules.privacy import PrivacyPolicy, Retention, privacy_policy
from cmtool.services.context import Context, commit_message
from cmtool.store import index
from cmtool.store.casefiles import resolve_id
from cmtool.store.catalog import all_cases
from cmtool.store.keystore import KeyStoreUnavailable, NoKeys
from cmtool.store.personal import sealer_for
from cmtool.store.sealing import Sealer, is_token
from cmtool.store.statefiles import read_lines, state_dir
from cmtool.store.workspace import Workspace
from cmtool.store.yamlio import load

ERASE, PURGE, EXPORT = "privacy_erase", "privacy_purge", "privacy_export"


@dataclass(frozen=True)
class Erased:
    case_id: str
    key_destroyed: bool
    rule: str | None = None  # the retention rule (purge), or the overriding role (erase)


def policy_of(ws: Workspace) -> PrivacyPolicy:
    return privacy_policy(load_rules(ws.rules_path).raw)


def role_of(ws: Workspace, actor: str) -> str | None:
    person = load_rules(ws.rules_path).people.get(actor)
    return person.role if person is not None else None


def _same(left: object, right: str) -> bool:
    return isinstance(left, str) and " ".join(left.split()).casefold() == " ".join(right.split()).casefold()


def subject_cases(ws: Workspace, customer: str | None, case_refs: Iterable[str] = ()) -> list[Case]:
    """The cases of one person: their name or contact (as stored, spaces and case
    ignored) matched against every case this clone can open, plus ``case_refs``."""
    wanted = {resolve_id(ws, ref) for ref in case_refs}
    found = []
    for case in all_cases(ws):
        if case.id in wanted or (
            customer and (_same(case.get("customer"), customer) or _same(case.get("contact"), customer))
        ):
            found.append(case)
    if not found:
        raise NotFound(
            "no case of that customer" if customer else "no such case",
            hint="names and contacts of erased or sealed records cannot be searched; name cases with --case",
        )
    return found


def _working_sealer(ws: Workspace) -> Sealer:
    sealer = sealer_for(ws)
    if not sealer.active:
        raise UsageError(
            "this workspace seals nothing (rules.yaml privacy.key_store is null), so keys cannot erase",
            hint="set up a key store and run: cmtool privacy migrate (docs/privacy.md)",
        )
    if isinstance(sealer.keys, NoKeys):
        raise KeyStoreUnavailable(sealer.keys.why, hint="see docs/privacy.md (key store)")
    return sealer


def clear_personal_fields(ws: Workspace, case_id: str, sealer: Sealer) -> list[str]:
    """Personal fields (and notes, and attachments) the case file holds in clear:
    destroying a key cannot erase those, so erasure waits for `privacy migrate`."""
    data = load(ws.case_path(case_id).read_text(encoding="utf-8"), ws.case_relpath(case_id))
    clear = {
        name
        for name in sealer.personal - {NOTES, "extra"}
        if data.get(name) is not None and not is_token(data.get(name))
    }
    if NOTES in sealer.personal and any(
        isinstance(e, dict)
        and e.get("note") is not None
        and not is_token(e["note"])
        and e.get("rule") is None
        for e in data.get("events") or []
    ):
        clear.add(NOTES)
    if any(
        isinstance(e, dict) and e.get("action") == "attach" and _clear_files(e.get("files"))
        for e in data.get("events") or []
    ):
        clear.add("attachments")
    return sorted(clear)


def _clear_files(files: object) -> bool:
    """Files attached before sealing: stored as they are, no key can erase them."""
    return isinstance(files, list) and any(isinstance(f, dict) and not f.get("stored_sha256") for f in files)


def hold_until(case: Case, policy: PrivacyPolicy) -> tuple[Retention, datetime | None] | None:
    """The legal hold that keeps ``case`` now: (rule, end; None while open), or None."""
    holds = policy.holds(case.get("regimes") or [])
    if not holds:
        return None
    rule = max(holds, key=lambda r: r.years)
    closed = case.get("closed_at")
    return rule, (rule.ends(parse_time(closed)) if closed else None)


def erase(
    ctx: Context, customer: str | None, case_refs: Iterable[str], legal_basis: str, dry_run: bool = False
) -> list[Erased]:
    """Erase a person's records: refused, naming the rule, while a legal hold keeps
    one, unless the actor's role may override (recorded in the event)."""
    basis = " ".join((legal_basis or "").split())
    if not basis:
        raise UsageError("--legal-basis must name why (e.g. 'GDPR art. 17(1)(a)'), without personal data")
    sealer = _working_sealer(ctx.ws)
    policy = policy_of(ctx.ws)
    cases = subject_cases(ctx.ws, customer, case_refs)
    role = role_of(ctx.ws, ctx.actor)
    override = role if role in policy.erase_override else None
    for case in cases:
        clear = clear_personal_fields(ctx.ws, case.id, sealer)
        if clear:
            raise InvalidTransition(
                f"{case.id} holds {', '.join(clear)} in clear (written before sealing); "
                "destroying a key cannot erase that",
                hint="seal the workspace first: cmtool privacy migrate"
                + (
                    " (it does not seal files attached before sealing: docs/privacy.md, Attachments)"
                    if "attachments" in clear
                    else ""
                ),
            )
        held = hold_until(case, policy)
        if held and override is None and (held[1] is None or held[1] > ctx.now):
            rule, until = held
            when = f"until {until.date().isoformat()}" if until else "while it is open, and after closing"
            roles = ", ".join(sorted(policy.erase_override)) or "none"
            raise InvalidTransition(
                f"{case.id} must be kept {when}: retention rule privacy.retention.{rule.rule} "
                f"({rule.years:g} years after closing, a legal hold)",
                hint=f"an actor whose role is in privacy.erase_override ({roles}) may erase it",
            )
    if dry_run:
        return [Erased(c.id, False, override) for c in cases]
    details = {"legal_basis": basis, **({"override": override} if override else {})}
    _record(ctx, [c.id for c in cases], ERASE, lambda _c: details, f"privacy_erase: {len(cases)} case(s)")
    done = [Erased(c.id, sealer.keys.destroy(c.id, ctx.now_text, f"erase: {basis}"), override) for c in cases]
    _forget(ctx.ws, [c.id for c in cases])
    return done


def purge(ctx: Context, dry_run: bool = False) -> list[Erased]:
    """Destroy the keys of closed cases whose retention has ended (for cron)."""
    sealer = _working_sealer(ctx.ws)
    policy = policy_of(ctx.ws)
    held = sealer.keys.key_ids()
    due: list[tuple[Case, Retention]] = []
    for case in all_cases(ctx.ws, statuses=("closed",)):
        rule = policy.retention_of(case.get("regimes") or [])
        closed = case.get("closed_at")
        if case.id in held and rule is not None and closed and rule.ends(parse_time(closed)) <= ctx.now:
            due.append((case, rule))
    if dry_run or not due:
        return [Erased(c.id, False, r.rule) for c, r in due]
    rules = {c.id: r for c, r in due}
    _record(
        ctx,
        list(rules),
        PURGE,
        lambda case_id: {"retention": rules[case_id].rule, "years": rules[case_id].years},
        f"privacy_purge: {len(due)} case(s) past retention",
    )
    reason = "purge: retention ended"
    done = [Erased(c.id, sealer.keys.destroy(c.id, ctx.now_text, reason), r.rule) for c, r in due]
    _forget(ctx.ws, list(rules))
    return done


def _record(
    ctx: Context, case_ids: list[str], action: str, details_of: Callable[[str], dict], summary: str
) -> None:
    with ctx.transaction() as tx:
        for case_id in case_ids:
            case, text = tx.load(case_id)
            ctx.not_before(case.updated_at, case_id)
            event = Event(
                ctx.now_text, ctx.actor, action, details=MappingProxyType(dict(details_of(case_id)))
            )
            tx.put(case.with_event(event), text, ctx.now_text)
        tx.commit(commit_message(summary, action, ctx.actor, case_ids), ctx.identity, ctx.now_text)


def _forget(ws: Workspace, case_ids: list[str]) -> None:
    """Derived copies forget what they opened: the index re-reads the cases (now
    sealed for good), the notifications record drops the words of their messages,
    and doctor's set-aside copies of them are deleted."""
    index.refresh(ws)
    _scrub_notifications(ws, set(case_ids))
    aside = ws.root / ".cmtool" / "doctor"
    if aside.is_dir():
        for case_id in case_ids:
            for copy in aside.rglob(f"{case_id}.yaml*"):
                copy.unlink()


def _scrub_notifications(ws: Workspace, case_ids: set[str]) -> None:
    from cmtool.services.notifications import RECORD

    path = state_dir(ws) / RECORD
    if not path.exists():
        return
    records = read_lines(ws, RECORD)
    kept = [
        {k: v for k, v in r.items() if k not in ("subject", "body")} if r.get("case_id") in case_ids else r
        for r in records
    ]
    if kept != records:
        temp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        temp.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in kept))
        os.replace(temp, path)
