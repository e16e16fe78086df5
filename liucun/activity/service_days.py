"""The customer-service figures of every bucket from the inbox's per-day digests (inbox.measure_days).

Each day's service and wall seconds come sorted; a bucket's percentiles are nearest-rank, the value
ranked ceil(p/100 x n) (inbox.queries.percentile, and service_sql's ROW_NUMBER), picked by a partial
sort of the bucket's days joined (numpy's partition: linear, a month of a busy inbox in a millisecond).
The numbers equal service_sql.figures over the measures themselves (tests/test_service_digest.py);
that query still answers when the digest was cut in another time zone.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from liucun.activity.service_sql import BucketFigures
from liucun.analytics.periods import Bucket
from liucun.inbox import measure_days


def _rank(n: int, p: int) -> int:
    """The 0-based index of the nearest-rank p-th percentile of n values, in integers (no float error)."""
    return (n * p + 99) // 100 - 1


def figures(
    account_id: int,
    kind: str,
    buckets: list[Bucket],
    *,
    ranked: str,
    first_threshold: float,
    second_threshold: float,
) -> dict[int, BucketFigures] | None:
    """Per bucket index (buckets with measures only): the count, how many ranked values are at most the
    first threshold and wall seconds at most the second, and the p50 and p90 of the ranked values
    ("service" or "wall" seconds). None when the digest cannot be read as it is (measure_days)."""
    if ranked not in {"service", "wall"}:
        raise ValueError(f"not a ranked measure value: {ranked}")
    arrays = ("wall",) if ranked == "wall" else ("service", "wall")
    days = measure_days.days_between(account_id, kind, buckets[0].first, buckets[-1].last, arrays)
    if days is None:
        return None
    import numpy as np  # only when a report is built: the callback and the worker never load it

    firsts = [b.first for b in buckets]
    # bucket index -> the sorted arrays of its days, ranked values first, then wall seconds
    ranked_parts: dict[int, list[Any]] = {}
    wall_parts: dict[int, list[Any]] = {}
    for day, *blobs in days:
        i = bisect_right(firsts, day) - 1
        ranked_parts.setdefault(i, []).append(np.frombuffer(blobs[0], dtype="<f8"))
        wall_parts.setdefault(i, []).append(np.frombuffer(blobs[-1], dtype="<f8"))
    result: dict[int, BucketFigures] = {}
    for i, parts in ranked_parts.items():
        n = sum(len(part) for part in parts)
        if n == 0:
            continue
        p50, p90 = _rank(n, 50), _rank(n, 90)
        # A day's values are sorted already: counts are binary searches, and a bucket of one day needs
        # no sort at all; a bucket of several days is joined and partially sorted at the two ranks.
        chosen = parts[0] if len(parts) == 1 else np.partition(np.concatenate(parts), [p50, p90])
        result[i] = BucketFigures(
            n,
            sum(int(part.searchsorted(first_threshold, side="right")) for part in parts),
            sum(int(part.searchsorted(second_threshold, side="right")) for part in wall_parts[i]),
            float(chosen[p50]),
            float(chosen[p90]),
        )
    return result
