"""The customer-service figures of every bucket from the inbox's per-day digests (inbox.measure_days).

Each day's service and wall seconds come sorted; a bucket's percentiles are nearest-rank, the value
ranked ceil(p/100 x n) (inbox.queries.percentile, and service_sql's ROW_NUMBER), picked by a partial
sort of the bucket's days joined (numpy's partition: linear, a month of a busy inbox in a millisecond).
The numbers equal service_sql.figures over the measures themselves (tests/test_service_digest.py);
that query still answers when the digest was cut in another time zone.

A report of one channel passes the ids of the channel's conversations (service_channels): each day's
values are read with the conversation of each, and only those of the channel kept (one membership test
over the range's values per array; what is kept of a sorted day is still sorted).
"""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING, Any

from liucun.activity.service_sql import BucketFigures
from liucun.analytics.periods import Bucket
from liucun.inbox import measure_days

if TYPE_CHECKING:
    import numpy as np


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
    conversations: np.ndarray | None = None,
) -> dict[int, BucketFigures] | None:
    """Per bucket index (buckets with measures only): the count, how many ranked values are at most the
    first threshold and wall seconds at most the second, and the p50 and p90 of the ranked values
    ("service" or "wall" seconds); of the measures of `conversations` only (sorted ids) when given. None
    when the digest cannot be read as it is (measure_days)."""
    if ranked not in {"service", "wall"}:
        raise ValueError(f"not a ranked measure value: {ranked}")
    values = ("wall",) if ranked == "wall" else ("service", "wall")
    owners = tuple(f"{name}_conversations" for name in values) if conversations is not None else ()
    days = measure_days.days_between(account_id, kind, buckets[0].first, buckets[-1].last, values + owners)
    if days is None:
        return None
    import numpy as np  # only when a report is built: the callback and the worker never load it

    # per array name, each day's values (little-endian float64), in day order
    arrays = {name: [np.frombuffer(day[1 + i], dtype="<f8") for day in days] for i, name in enumerate(values)}
    if conversations is not None:
        for i, name in enumerate(values):
            of_day = [np.frombuffer(day[1 + len(values) + i], dtype="<i8") for day in days]
            arrays[name] = _kept(arrays[name], of_day, conversations)
    firsts = [b.first for b in buckets]
    # bucket index -> the sorted arrays of its days, ranked values first, then wall seconds
    ranked_parts: dict[int, list[Any]] = {}
    wall_parts: dict[int, list[Any]] = {}
    for d, day in enumerate(days):
        i = bisect_right(firsts, day[0]) - 1
        ranked_parts.setdefault(i, []).append(arrays[values[0]][d])
        wall_parts.setdefault(i, []).append(arrays["wall"][d])
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


def _kept(values: list[np.ndarray], owners: list[np.ndarray], conversations: np.ndarray) -> list[np.ndarray]:
    """Each day's values whose conversation is one of `conversations` (sorted): one lookup table over
    the ids' span and one selection for the whole range (np.isin, or a selection per day, cost several
    times as much on a year's values)."""
    import numpy as np

    if not values or len(conversations) == 0:
        return [part[:0] for part in values]
    low, high = int(conversations[0]), int(conversations[-1])
    member = np.zeros(high - low + 1, dtype=bool)
    member[conversations - low] = True
    every = np.concatenate(owners)
    inside = (every >= low) & (every <= high)
    keep = np.zeros(len(every), dtype=bool)
    keep[inside] = member[every[inside] - low]
    # How many of each day's values are kept: differences of the running count at the days' ends (int32:
    # four times faster than numpy's default int64 here, and a range holds far fewer than 2**31 values).
    running = np.concatenate([[0], np.cumsum(keep, dtype=np.int32)])
    ends = np.cumsum([len(part) for part in owners])
    kept_per_day = np.diff(running[np.concatenate([[0], ends])])
    return np.split(np.concatenate(values)[keep], np.cumsum(kept_per_day)[:-1])
