"""`cmtool bulk`: one change to many cases, one commit naming every case.

Each case goes through the very action a single command runs (the same checks,
the same event), inside one shared transaction: ``BatchContext`` hands every
action the same transaction and holds back its commit, so the batch commits
once. A case the action refuses (a transition not allowed, nothing to change)
is listed and left alone; the others are changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from typing import Any

from cmtool.errors import CmtoolError, UsageError
from cmtool.services import lifecycle
from cmtool.services.context import Context, commit_message
from cmtool.store.casefiles import resolve_id
from cmtool.store.transaction import Transaction

MAX_SUMMARY_IDS = 3  # the commit's summary line names a few; its trailers name all


class _Batch:
    """A transaction shared by many actions: their commits are held back."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx

    def load(self, case_id: str):
        return self.tx.load(case_id)

    def put(self, case, previous_text) -> None:
        self.tx.put(case, previous_text)

    def put_file(self, relpath: str, text: str) -> None:
        self.tx.put_file(relpath, text)

    def commit(self, message: str, author: Any, date: str) -> None:
        """Held back: the batch commits once, after every case."""


@dataclass(frozen=True)
class BatchContext(Context):
    batch: Any = None

    @contextmanager
    def transaction(self, timeout: float | None = None) -> Iterator[Any]:
        yield self.batch


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (case ID, why)
    commit: str | None = None

    def rows(self) -> list[dict[str, str]]:
        return [{"id": i, "result": "changed", "why": ""} for i in self.changed] + [
            {"id": i, "result": "refused", "why": why} for i, why in self.refused
        ]


Step = Callable[[Context, str], Any]


def run(ctx: Context, ids: Sequence[str], action: str, step: Step, what: str, dry_run: bool) -> BulkResult:
    """Apply ``step`` (a single-case action) to every case; one commit unless ``dry_run``."""
    if not ids:
        raise UsageError("no cases chosen", hint="name IDs, pipe them in with -, or use --where")
    result = BulkResult()
    with ctx.transaction() as tx:
        same = {f.name: getattr(ctx, f.name) for f in fields(ctx)}
        batch_ctx = BatchContext(**same, batch=_Batch(tx))
        for case_id in ids:
            try:
                step(batch_ctx, case_id)
            except CmtoolError as exc:
                result.refused.append((case_id, str(exc)))
            else:
                result.changed.append(case_id)
        if dry_run or not result.changed:
            return result
        named = ", ".join(result.changed[:MAX_SUMMARY_IDS])
        more = (
            f" and {len(result.changed) - MAX_SUMMARY_IDS} more"
            if len(result.changed) > MAX_SUMMARY_IDS
            else ""
        )
        message = commit_message(f"bulk {action} {named}{more}: {what}", "bulk", ctx.actor, result.changed)
        result.commit = tx.commit(message, ctx.identity, ctx.now_text)
    return result


def resolve_ids(ctx: Context, refs: Iterable[str]) -> list[str]:
    """Full IDs, in the order given, each once; an unknown or ambiguous one stops
    the batch before anything is written (better than changing the wrong case)."""
    seen: dict[str, None] = {}
    for ref in refs:
        seen.setdefault(resolve_id(ctx.ws, ref), None)
    return list(seen)


def edit_step(updates: dict[str, Any], reason: str | None) -> Step:
    return lambda ctx, case_id: lifecycle.edit(ctx, case_id, updates, reason)


def assign_step(to: str, reason: str | None) -> Step:
    return lambda ctx, case_id: lifecycle.assign(ctx, case_id, to, reason)


def close_step(note: str | None) -> Step:
    return lambda ctx, case_id: lifecycle.close(ctx, case_id, note)


def tag_step(add: Sequence[str], remove: Sequence[str]) -> Step:
    """Add and remove tags, keeping the others (and their order)."""
    if not add and not remove:
        raise UsageError("nothing to tag", hint="give --add TAG or --remove TAG")

    def step(ctx: Context, case_id: str) -> Any:
        case, _ = ctx.batch.load(case_id)  # type: ignore[attr-defined]
        tags = [t for t in case.get("tags") or [] if t not in remove]
        tags += [t for t in add if t not in tags]
        return lifecycle.edit(ctx, case_id, {"tags": tags}, None)

    return step
