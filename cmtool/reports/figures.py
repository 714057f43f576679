"""Small statistics with definitions a reader can check by hand."""

from __future__ import annotations

import math
from collections.abc import Sequence


def rate(part: int | float, whole: int | float) -> float | None:
    """``part / whole``, or None when there is nothing to divide by (shown as "n/a")."""
    return None if not whole else part / whole


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of the
    values at or below it (p90 of 10 values is the 9th smallest)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    """The middle value; the mean of the two middle values for an even count."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def summary(values: Sequence[float], scale: float = 1.0, digits: int = 2) -> dict:
    """count, median, mean and p90 of ``values`` divided by ``scale`` (e.g. 3600 for hours)."""
    scaled = [value / scale for value in values]

    def rounded(number: float | None) -> float | None:
        return None if number is None else round(number, digits)

    return {
        "count": len(scaled),
        "median": rounded(median(scaled)),
        "mean": rounded(sum(scaled) / len(scaled)) if scaled else None,
        "p90": rounded(percentile(scaled, 0.9)),
    }


def nps(scores: Sequence[int]) -> float | None:
    """Net promoter score: % promoters (9-10) minus % detractors (0-6), -100..100."""
    if not scores:
        return None
    promoters = sum(1 for score in scores if score >= 9)
    detractors = sum(1 for score in scores if score <= 6)
    return round(100 * (promoters - detractors) / len(scores), 1)
