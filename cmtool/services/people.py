"""`cmtool people add`: list colleagues in rules.yaml with one commit.

Until ``people:`` lists anyone nothing is role-checked; from the first person on,
every actor must be listed (or be a system actor under ``audit.system_actors``).
"""

from __future__ import annotations

from collections.abc import Sequence

from cmtool.errors import DataError, Refused
from cmtool.rules.access import read_access
from cmtool.rules.loader import rules_from_text
from cmtool.services.context import Context, commit_message
from cmtool.store.casefiles import read_text
from cmtool.store.rulesedit import PersonSpec, add_people
from cmtool.store.yamlio import load

RULES = "rules.yaml"


def add(ctx: Context, people: Sequence[PersonSpec]) -> str:
    """Add ``people`` (checked as `validate` would) and commit; returns the new rules text."""
    with ctx.transaction() as tx:
        text = read_text(ctx.ws.rules_path)
        data = load(text, RULES)
        policy = read_access(data)[0] if isinstance(data, dict) else None
        if policy is not None and policy.checks_roles and not policy.is_known(ctx.actor):
            raise Refused(
                f"refused: {ctx.actor!r} is not listed under people: in rules.yaml; "
                "act as a listed person (--actor NAME) to add colleagues"
            )
        new = add_people(text, people)
        try:
            rules_from_text(new, RULES)
        except DataError as exc:
            raise DataError(f"not added: {exc}", hint=exc.hint) from None
        tx.put_file(RULES, new)
        names = ", ".join(p.name for p in people)
        tx.commit(commit_message(f"people: add {names}", "people", ctx.actor, []), ctx.identity, ctx.now_text)
    return new
