"""Building real histories fast for the audit tests: the services API in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from unittest import mock

from cmtool.services import lifecycle
from cmtool.services.context import make_context
from cmtool.services.guard import ActionGuard

START = datetime.fromisoformat("2025-11-22T09:00:00+08:00")


class Clock:
    """Each action a few minutes after the last, so events and commits move forward."""

    def __init__(self, start: datetime = START) -> None:
        self.moment = start

    def tick(self, minutes: int = 7) -> str:
        self.moment += timedelta(minutes=minutes)
        return self.moment.isoformat()


@contextmanager
def outside_cmtool() -> Iterator[None]:
    """Commits as a script, an older cmtool or a hand edit would make them: with the
    Cmtool-* trailers, but without asking rules.yaml's people and roles first (which
    cmtool itself always does). ``audit verify`` is the check for such commits."""
    with mock.patch.object(ActionGuard, "__call__", lambda self, case, before: None):
        yield


def ctx(ws: Path, actor: str, clock: Clock):
    return make_context(ws, actor, clock.tick())


def ordinary_history(ws: Path, cases: int, clock: Clock) -> list[str]:
    """``cases`` cases, each filed, assigned, noted, resolved and closed (5 actions each)."""
    ids = []
    for number in range(cases):
        case = lifecycle.file_case(
            ctx(ws, "alice", clock), {"title": f"Charger overheats #{number}", "channel": "phone"}
        )
        ids.append(case.id)
        lifecycle.assign(ctx(ws, "dana", clock), case.id, "bob")
        lifecycle.note(ctx(ws, "bob", clock), case.id, "Called the customer back")
        lifecycle.resolve(ctx(ws, "bob", clock), case.id, "Replaced the charger", redress=20)
        lifecycle.close(ctx(ws, "dana", clock), case.id)
    return ids


def verify_json(cli, ws: Path, *args: str) -> tuple[int, dict]:
    result = cli("audit", "verify", "--json", *args, cwd=ws)
    assert result.code in (0, 1), result.err
    return result.code, json.loads(result.out)


def codes(report: dict) -> list[str]:
    return sorted({item["code"] for item in report["items"]})
