"""Build a workspace of N realistic cases with realistic git history, fast.

    python benchmarks/generate.py DIR --cases 10000 [--history actions|daily] [--seed 1]

Cases are filed over three years (``--days``) up to ``--end``; each gets a realistic
timeline (assign, first contact, maybe waiting and escalation, resolve,
close, sometimes a reopen), so the mix of statuses looks like a live team:
old cases closed, recent ones open. ``--open-share`` forces a share of cases
to stay open (e.g. 0.1 for 10k open cases in a 100k workspace).

History goes through ``git fast-import`` in one stream: with ``--history
actions`` every action is its own commit with cmtool trailers, exactly as the
CLI would have made it; ``--history daily`` (the default above 20,000 cases)
makes one commit per day to keep 100k-case builds to about a minute.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cmtool.model.case import Case  # noqa: E402
from cmtool.model.events import Event  # noqa: E402
from cmtool.model.ids import new_id  # noqa: E402
from cmtool.model.timefmt import format_time  # noqa: E402
from cmtool.store.workspace import BUNDLED, GIT_SETTINGS  # noqa: E402
from cmtool.store.yamlstyle import dump  # noqa: E402

TZ = timezone(timedelta(hours=8))
PEOPLE = ["alice", "bob", "chen.jie", "li.na", "dana", "wang.fang"]
LEADS = ["dana", "wang.fang", "omar"]
CHANNELS = ["phone"] * 4 + ["email"] * 3 + ["web"] * 3 + ["app"] * 2 + ["social", "regulator", "letter"]
CATEGORIES = {
    "product_quality": ["Charger overheats", "充电器过热", "Screen cracked after a week", "电池鼓包"],
    "service_attitude": ["Rude agent on the hotline", "客服态度差", "No call back as promised"],
    "logistics": ["Parcel delayed two weeks", "快递延误", "Delivered to the wrong address"],
    "billing": ["Charged twice", "扣费不明", "Refund not received"],
    "false_advertising": ["Battery life far below advert", "虚假宣传"],
    "privacy": ["Marketing calls after opt-out", "个人信息泄露"],
    "safety": ["Plug sparked and burned", "存在安全隐患"],
}
PRIORITIES = ["low", "normal", "normal", "high"]
TEAMS = {
    "product_quality": "quality",
    "service_attitude": "service",
    "logistics": "logistics",
    "billing": "billing",
    "false_advertising": "compliance",
    "privacy": "compliance",
    "safety": "quality",
}
MEMBERS = {
    "quality": ["alice", "chen.jie"],
    "service": ["bob", "li.na"],
    "logistics": ["li.na", "bob"],
    "billing": ["alice", "bob"],
    "compliance": ["chen.jie", "wang.fang"],
}
REGIONS = ["Shanghai", "Beijing", "Guangzhou", "Shenzhen", "London", "Manchester", "New York"]
PRODUCTS = ["X1 charger", "X2 power bank", "Phone Z", "Earbuds P", "Smart plug S"]
NAMES = ["Li Wei", "Wang Fang", "Zhang Min", "Emma Brown", "Oliver Smith", "Liu Yang", "Ana Gomez"]


@dataclass
class Action:
    at: datetime
    case_id: str
    index: int  # position of the event in the case's timeline


def timeline(rng: random.Random, filed: datetime, end: datetime, force_open: bool, team: str) -> list[tuple]:
    """(at, action, updates, note) steps of one case, in order, all before ``end``."""
    steps = []
    at = filed + timedelta(minutes=rng.randint(5, 240))
    owner = rng.choice(MEMBERS[team])
    steps.append((at, "assign", {"team": team, "assignee": owner, "status": "assigned"}, None))
    at += timedelta(hours=rng.uniform(0.2, 30))
    steps.append(
        (
            at,
            "note",
            {"first_response_at": format_time(at), "status": "in_progress"},
            "Called the customer back",
        )
    )
    if rng.random() < 0.3:
        at += timedelta(hours=rng.uniform(1, 48))
        steps.append((at, "wait", {"waiting_reason": "waiting for photos", "status": "waiting"}, None))
        at += timedelta(hours=rng.uniform(4, 96))
        steps.append((at, "resume", {"waiting_reason": None, "status": "in_progress"}, None))
    if rng.random() < 0.1:
        at += timedelta(hours=rng.uniform(1, 48))
        steps.append(
            (
                at,
                "escalate",
                {"assignee": rng.choice(LEADS), "escalation_level": 1},
                "customer threatens to go to the regulator",
            )
        )
    at += timedelta(days=rng.expovariate(1 / 6))
    steps.append(
        (
            at,
            "resolve",
            {
                "resolution": "Refunded and apologised",
                "remedy": "refund",
                "resolved_at": format_time(at),
                "status": "resolved",
            },
            None,
        )
    )
    at += timedelta(days=rng.uniform(1, 7))
    steps.append((at, "close", {"closed_at": format_time(at), "status": "closed"}, None))
    if rng.random() < 0.04:
        at += timedelta(days=rng.uniform(1, 20))
        steps.append(
            (
                at,
                "reopen",
                {"resolved_at": None, "closed_at": None, "status": "in_progress"},
                "It happened again",
            )
        )
    cut = [step for step in steps if step[0] < end]
    if force_open:
        cut = [s for s in cut if s[1] not in ("resolve", "close", "reopen")]
    return cut


def build_cases(
    count: int, end: datetime, seed: int, open_share: float, days: int = 3 * 365
) -> dict[str, list[Event]]:
    rng = random.Random(seed)
    span = timedelta(days=days).total_seconds()
    cases: dict[str, list[Event]] = {}
    for _ in range(count):
        filed = (end - timedelta(seconds=span * (rng.random() ** 0.8))).astimezone(TZ)
        filed = filed.replace(microsecond=0)
        category = rng.choice(list(CATEGORIES))
        title = rng.choice(CATEGORIES[category])
        state = {
            "title": title,
            "status": "new",
            "priority": "critical" if category == "safety" else rng.choice(PRIORITIES),
            "category": category,
            "channel": rng.choice(CHANNELS),
            "customer": rng.choice(NAMES),
            "contact": f"+86 138 {rng.randint(0, 9999):04d} {rng.randint(0, 9999):04d}",
            "customer_tier": "vip" if rng.random() < 0.05 else "standard",
            "product": rng.choice(PRODUCTS),
            "region": rng.choice(REGIONS),
            "filed_at": format_time(filed),
            "description": f"{title}. The customer reported it on {filed:%Y-%m-%d}.",
        }
        case_id = new_id(filed, rng.getrandbits)
        while case_id in cases:
            case_id = new_id(filed, rng.getrandbits)
        events = [
            Event(
                format_time(filed),
                rng.choice(PEOPLE),
                "file",
                MappingProxyType({k: (None, v) for k, v in state.items()}),
            )
        ]
        current = dict(state)
        force_open = rng.random() < open_share
        for at, action, updates, note in timeline(rng, filed, end, force_open, TEAMS[category]):
            changes = {k: (current.get(k), v) for k, v in updates.items() if current.get(k) != v}
            current.update(updates)
            actor = updates.get("assignee") if action == "assign" else current.get("assignee")
            events.append(
                Event(
                    format_time(at.replace(microsecond=0)),
                    actor or "alice",
                    action,
                    MappingProxyType(changes),
                    note,
                )
            )
        cases[case_id] = events
    return cases


def _path(case_id: str) -> str:
    return f"cases/20{case_id[2:4]}/{case_id[4:6]}/{case_id}.yaml"


def _blob(text: str) -> bytes:
    data = text.encode("utf-8")
    return b"data %d\n" % len(data) + data + b"\n"


def _commit(out, when: datetime, actor: str, message: str, files: dict[str, str]) -> None:
    stamp = f"{int(when.timestamp())} +0800"
    out.write(
        f"commit refs/heads/main\nauthor {actor} <{actor}@cmtool.invalid> {stamp}\n"
        f"committer cmtool-bench <bench@cmtool.invalid> {stamp}\n".encode()
    )
    out.write(_blob(message))
    for path, text in files.items():
        out.write(f"M 100644 inline {path}\n".encode())
        out.write(_blob(text))
    out.write(b"\n")


def sealing_dump(root: Path) -> Callable[[dict], str]:
    """A dump that seals personal fields as a workspace with a key store does, the
    keys in ``<root>-keys.sqlite`` beside it (``--sealed``: what encryption costs)."""
    from cmtool.model.privacy import DEFAULT_PERSONAL
    from cmtool.store.keystore import SqliteKeyStore
    from cmtool.store.sealing import Sealer

    keys = root.with_name(f"{root.name}-keys.sqlite")
    keys.unlink(missing_ok=True)
    sealer = Sealer(SqliteKeyStore(keys), frozenset(DEFAULT_PERSONAL), True)
    cache: dict = {}
    return lambda data: dump(sealer.seal_in_place(data, "2023-01-01T00:00:00+08:00", cache))


def write_history(root: Path, cases: dict[str, list[Event]], history: str, sealed: bool = False) -> int:
    """Stream every commit into ``git fast-import``; returns the number of commits."""
    render = sealing_dump(root) if sealed else dump
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=root, stdin=subprocess.PIPE)
    out = proc.stdin
    assert out is not None
    base = {
        str(p.relative_to(BUNDLED)): p.read_text(encoding="utf-8")
        for p in BUNDLED.rglob("*")
        if p.is_file() and "cases" not in p.relative_to(BUNDLED).parts
    }
    base[".gitignore"] = "# cmtool's disposable index and outputs\n.cmtool/\n"
    if sealed:
        keys = root.with_name(f"{root.name}-keys.sqlite")
        base["rules.yaml"] = base["rules.yaml"].replace("\n  key_store: null\n", f"\n  key_store: {keys}\n")
    first = min(events[0].at for events in cases.values()) if cases else "2023-01-01T00:00:00+08:00"
    _commit(
        out,
        datetime.fromisoformat(first) - timedelta(days=1),
        "cmtool",
        "init workspace\n\nCmtool-Action: init\nCmtool-Actor: cmtool\n",
        base,
    )
    actions = sorted(
        (
            Action(datetime.fromisoformat(ev.at), cid, i)
            for cid, evs in cases.items()
            for i, ev in enumerate(evs)
        ),
        key=lambda a: (a.at, a.case_id, a.index),
    )
    commits = 1
    live: dict[str, Case] = {}
    if history == "actions":
        for act in actions:
            event = cases[act.case_id][act.index]
            case = live.get(act.case_id) or Case(act.case_id, MappingProxyType({}), ())
            case = live[act.case_id] = case.with_event(event)
            message = (
                f"{event.action} {act.case_id}\n\nCmtool-Action: {event.action}\n"
                f"Cmtool-Actor: {event.actor}\nCmtool-Case: {act.case_id}\n"
            )
            _commit(out, act.at, event.actor, message, {_path(act.case_id): render(case.to_dict())})
            commits += 1
    else:
        day: dict[str, Case] = {}
        current_day = None
        for act in [*actions, None]:
            key = act.at.date() if act else None
            if day and key != current_day:
                message = (
                    f"daily batch {current_day}\n\nCmtool-Action: batch\nCmtool-Actor: cmtool\n"
                    + "".join(f"Cmtool-Case: {cid}\n" for cid in sorted(day))
                )
                _commit(
                    out,
                    datetime.combine(current_day, datetime.max.time(), TZ),
                    "cmtool",
                    message,
                    {_path(cid): render(c.to_dict()) for cid, c in day.items()},
                )
                commits += 1
                day = {}
            if act is None:
                break
            current_day = key
            case = live.get(act.case_id) or Case(act.case_id, MappingProxyType({}), ())
            live[act.case_id] = day[act.case_id] = case.with_event(cases[act.case_id][act.index])
    out.write(b"done\n")
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    return commits


def generate(
    root: Path,
    count: int,
    history: str | None = None,
    seed: int = 1,
    end: str = "2025-11-20T18:00:00+08:00",
    open_share: float = 0.0,
    sealed: bool = False,
    days: int = 3 * 365,
) -> dict:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    history = history or ("actions" if count <= 20000 else "daily")
    started = time.perf_counter()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    for key, value in GIT_SETTINGS.items():
        subprocess.run(["git", "config", key, value], cwd=root, check=True)
    cases = build_cases(count, datetime.fromisoformat(end), seed, open_share, days)
    commits = write_history(root, cases, history, sealed)
    subprocess.run(["git", "checkout", "-q", "-f", "main"], cwd=root, check=True)
    return {
        "cases": count,
        "commits": commits,
        "history": history,
        "sealed": sealed,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directory", type=Path)
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--history", choices=["actions", "daily"])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default="2025-11-20T18:00:00+08:00")
    parser.add_argument(
        "--open-share", type=float, default=0.0, help="share of cases kept open whatever their age"
    )
    parser.add_argument("--sealed", action="store_true", help="personal fields sealed, keys beside it")
    parser.add_argument("--days", type=int, default=3 * 365, help="cases are filed over this many days")
    args = parser.parse_args()
    print(
        generate(
            args.directory,
            args.cases,
            args.history,
            args.seed,
            args.end,
            args.open_share,
            args.sealed,
            args.days,
        )
    )


if __name__ == "__main__":
    main()
