"""Alerts when a category's count in the period is far above its recent history.

"Far above" is a z-score against the same-length periods just before:

    baseline = mean of the counts in up to 6 previous periods
    spread   = max(standard deviation of those counts, sqrt(baseline), 1)
    z        = (count - baseline) / spread

An alert is raised when z >= 3 and the count is at least 5. ``sqrt(baseline)`` is
the spread a Poisson count would have: it keeps a flat history (spread 0) from
alerting on one extra complaint, and the floor of 5 keeps tiny categories quiet.
Periods that ended before the first case of the workspace are not history, and at
least 3 periods of history are needed before any alert.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cmtool.reports.facts import CaseFacts, Filing
from cmtool.reports.periods import Period

HISTORY_PERIODS = 6
MIN_HISTORY = 3
Z_THRESHOLD = 3.0
MIN_COUNT = 5


def category_alerts(
    facts: Sequence[CaseFacts | Filing],
    period: Period,
    field: str = "category",
    first_filing: str | None = None,
) -> list[dict[str, Any]]:
    if not facts:
        return []
    # The workspace's first filing when the caller knows it (facts may be only the
    # recent cases); else the earliest among the facts.
    first = min(fact.filed for fact in facts)
    if first_filing:
        first = min(first, datetime.fromisoformat(first_filing))
    history = [p for p in period.previous(HISTORY_PERIODS) if p.end > first]
    if len(history) < MIN_HISTORY:
        return []
    counts = [Counter() for _ in history]
    current: Counter = Counter()
    for fact in facts:
        key = str(fact.get(field, "(none)"))
        if period.contains(fact.filed):
            current[key] += 1
            continue
        for index, past in enumerate(history):
            if past.contains(fact.filed):
                counts[index][key] += 1
                break
    alerts = []
    for key, count in sorted(current.items()):
        past_counts = [c[key] for c in counts]
        baseline = statistics.fmean(past_counts)
        spread = max(statistics.pstdev(past_counts), math.sqrt(baseline), 1.0)
        z = (count - baseline) / spread
        if z >= Z_THRESHOLD and count >= MIN_COUNT:
            alerts.append(
                {
                    "key": key,
                    "count": count,
                    "baseline": round(baseline, 2),
                    "spread": round(spread, 2),
                    "z": round(z, 2),
                    "history": past_counts,
                    "history_periods": [p.label for p in history],
                }
            )
    alerts.sort(key=lambda alert: -alert["z"])
    return alerts
