"""`cmtool audit verify` on one case with a very long timeline.

    python benchmarks/long_case.py                      # 5,000, 10,000 and 20,000 events
    python benchmarks/long_case.py --events 20000 --runs 3

A case's checks must grow linearly with its events: a timeline rescanned per
event made 20,000 events take 98 s. Each size is one workspace with one case
whose events (notes, some changing the redress the role checks follow) were
appended by one cmtool commit; the row times the real ``cmtool audit verify``
in a subprocess. Seconds per 1,000 events should stay flat as the size grows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cmtool.model.events import Event  # noqa: E402
from cmtool.services import lifecycle  # noqa: E402
from cmtool.services.context import commit_message, make_context  # noqa: E402
from cmtool.store.transaction import transaction  # noqa: E402

START = datetime.fromisoformat("2025-11-03T09:00:00+08:00")


def build(root: Path, events: int) -> None:
    subprocess.run([sys.executable, "-m", "cmtool", "init", str(root)], check=True, capture_output=True)
    ctx = make_context(root, "alice", START.isoformat())
    case = lifecycle.file_case(ctx, {"title": "A long story", "channel": "phone"})
    end = START + timedelta(seconds=events + 1)
    with transaction(ctx.ws) as tx:
        case, text = tx.load(case.id)
        for number in range(events):
            moment = (START + timedelta(seconds=number + 1)).isoformat()
            changes = {"redress": (case.get("redress"), number % 50)} if number % 10 == 0 else {}
            case = case.with_event(
                Event(moment, "alice", "edit", MappingProxyType(changes), f"step {number}")
            )
        tx.put(case, text)
        tx.commit(commit_message("long timeline", "edit", "alice", [case.id]), ctx.identity, end.isoformat())


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", default="5000,10000,20000", help="comma-separated timeline lengths")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "CMTOOL_NOW": "2025-11-21T10:00:00+08:00"}
    print(f"{'events':>8} {'median s':>9} {'s per 1k':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for events in (int(n) for n in args.events.split(",")):
            root = Path(tmp) / f"ws{events}"
            build(root, events)
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-m", "cmtool", "audit", "verify"],
                    cwd=root,
                    env=env,
                    capture_output=True,
                )
                times.append(time.perf_counter() - start)
                if done.returncode not in (0, 1):
                    print(done.stderr.decode(), file=sys.stderr)
                    return 1
            median = statistics.median(times)
            print(f"{events:>8} {median:>9.2f} {median / events * 1000:>9.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
