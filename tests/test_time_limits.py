"""Limits of time and locks: far-future --now, future events, lock timeouts, a
damaged history index."""

from __future__ import annotations

import fcntl
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import git

FAR = "2099-01-01T09:00:00+08:00"


def real_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def commits(ws) -> int:
    return int(git(ws, "rev-list", "--count", "HEAD"))


def test_an_action_far_ahead_of_the_clock_is_refused(ws, cli):
    case_id = cli("file", "--title", "Charger overheats", cwd=ws).out.strip()
    before = commits(ws)
    for args in (["note", case_id, "from the future"], ["file", "--title", "Later"]):
        refused = cli(*args, "--now", FAR, cwd=ws)
        assert refused.code == 2, refused.err
        assert "more than a day ahead of this computer's clock" in refused.err
        assert "CMTOOL_ALLOW_FUTURE=1" in refused.err
    refused = cli("sla", "check", "--apply", cwd=ws, env={"CMTOOL_NOW": FAR})
    assert refused.code == 2 and "ahead of this computer's clock" in refused.err
    assert commits(ws) == before
    assert git(ws, "status", "--porcelain") == ""
    # Within a day (clock skew between clones) is fine, and so is the real clock.
    soon = (real_now() + timedelta(hours=12)).isoformat()
    assert cli("note", case_id, "a little ahead", "--now", soon, cwd=ws).code == 0


def test_the_real_clock_acts_on_a_case_after_a_refused_future_action(ws, cli, monkeypatch):
    monkeypatch.delenv("CMTOOL_NOW")
    case_id = cli("file", "--title", "Charger overheats", cwd=ws).out.strip()
    assert cli("note", case_id, "typo in --now", "--now", FAR, cwd=ws).code == 2
    later = cli("note", case_id, "called back", cwd=ws)
    assert later.code == 0, later.err


def test_a_forced_future_event_is_recorded_and_validate_flags_it(ws, cli):
    case_id = cli("file", "--title", "Charger overheats", cwd=ws).out.strip()
    assert cli("validate", cwd=ws).code == 0
    forced = cli("note", case_id, "planned", "--now", FAR, cwd=ws, env={"CMTOOL_ALLOW_FUTURE": "1"})
    assert forced.code == 0, forced.err
    checked = cli("validate", cwd=ws)
    assert checked.code == 1
    path = next((ws / "cases").rglob(f"{case_id}.yaml"))
    items = [
        n for n, text in enumerate(path.read_text().splitlines(), 1) if text.lstrip().startswith("- at:")
    ]
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if f'- at: "{FAR}"' in text)
    flagged = [row for row in checked.out.splitlines() if "EVENT_IN_FUTURE" in row]
    assert len(flagged) == 1
    # The line of the event's item, its position in the timeline and its time.
    number = items.index(line) + 1
    assert flagged[0].startswith(
        f"{path.relative_to(ws)}:{line}: EVENT_IN_FUTURE event {number} is dated {FAR}"
    )


@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_lock_timeouts_that_never_end_are_refused(ws, cli, value):
    case_id = cli("file", "--title", "Charger overheats", cwd=ws).out.strip()
    with open(ws / ".git" / "cmtool.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # a busy workspace: a bad timeout would wait forever
        swept = cli("sla", "check", "--apply", "--lock-timeout", value, cwd=ws)
        assert swept.code == 2, swept.err
        assert "seconds to wait for the lock" in swept.err
        noted = cli("note", case_id, "hi", cwd=ws, env={"CMTOOL_LOCK_TIMEOUT": value})
        assert noted.code == 2, noted.err
        assert "CMTOOL_LOCK_TIMEOUT" in noted.err
        waited = cli("note", case_id, "hi", cwd=ws, env={"CMTOOL_LOCK_TIMEOUT": "0.2"})
        assert waited.code == 5


@pytest.mark.parametrize("damage", ["garbage", "pages", "truncated"])
def test_a_damaged_history_index_is_rebuilt(ws, cli, damage):
    case_id = cli("file", "--title", "Charger overheats", cwd=ws).out.strip()
    cli("note", case_id, "called back", cwd=ws)
    first = cli("history", case_id, cwd=ws)
    assert first.code == 0, first.err
    index = ws / ".git" / "cmtool" / "history.sqlite"
    data = bytearray(index.read_bytes())
    if damage == "garbage":
        data = bytearray(b"not a database at all" * 10)
    elif damage == "pages":
        data[1024:] = b"\xab" * (len(data) - 1024)
    else:
        data = data[:1500]
    index.write_bytes(bytes(data))
    again = cli("history", case_id, cwd=ws)
    assert again.code == 0, again.err
    assert again.out == first.out
    assert cli("history", case_id, cwd=ws).out == first.out
