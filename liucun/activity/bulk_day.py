"""The China day of a stored time in SQL for the set-based rebuilds, on SQLite without a Python call per
row (activity/bulk.py): SQLite's date() of the stored text plus the zone's offset between its changes."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.db import connection

from liucun.readmodels.bulksql import local_day

# SQLite has no time-zone database, so bulksql.local_day calls Python for every row: about 2.5 µs, two
# minutes for a year of a million fans. Between two changes of the zone's offset, the day is SQLite's
# date() of the stored text plus that offset; times before or after these years, or not stored as Django
# stores them ('YYYY-MM-DD HH:MM:SS[.ffffff]', naive UTC), are still left to the Python function.
_FAST_FROM = datetime(2000, 1, 1, tzinfo=UTC)
_FAST_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)


def day_of(column: str, tz: ZoneInfo) -> tuple[str, list[str]]:
    """An SQL expression for the day of the UTC timestamp `column` in `tz`, as bulksql.local_day gives
    it, and its parameters."""
    slow, params = local_day(column, tz)
    if connection.vendor == "postgresql":
        return slow, params

    def between(spans: tuple[tuple[str, int], ...]) -> str:
        if len(spans) == 1:
            # Cut to the second: midnights fall on whole seconds, so the day is the same, and date()
            # rounds a fraction to milliseconds (23:59:59.9999 would be the next day).
            return f"date(substr({column}, 1, 19), '{spans[0][1]:+d} seconds')"
        half = len(spans) // 2
        earlier, later = between(spans[:half]), between(spans[half:])
        return f"CASE WHEN {column} < '{spans[half][0]}' THEN {earlier} ELSE {later} END"

    return (
        f"CASE WHEN {column} >= '{_stored(_FAST_FROM)}' AND {column} < '{_stored(_FAST_UNTIL)}'"
        f" AND substr({column}, 11, 1) = ' ' THEN {between(_offset_spans(tz.key))} ELSE {slow} END",
        params,
    )


@lru_cache(maxsize=16)
def _offset_spans(zone: str) -> tuple[tuple[str, int], ...]:
    """From _FAST_FROM to _FAST_UNTIL: each change of the zone's UTC offset (as stored text) and the offset
    from then on, in seconds. Found by sampling every six hours (no zone changes its offset twice within
    six hours) and bisecting to the second."""
    tz = ZoneInfo(zone)

    def offset(seconds: int) -> int:
        utcoffset = datetime.fromtimestamp(seconds, UTC).astimezone(tz).utcoffset()
        assert utcoffset is not None
        return int(utcoffset.total_seconds())

    start, until, step = int(_FAST_FROM.timestamp()), int(_FAST_UNTIL.timestamp()), 6 * 3600
    spans = [(start, offset(start))]
    for sample in range(start, until, step):
        later = min(sample + step, until)
        if offset(later) == spans[-1][1]:
            continue
        low, high = sample, later  # offset(low) is the current one, offset(high) the next
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if offset(middle) == spans[-1][1] else (low, middle)
        spans.append((high, offset(high)))
    return tuple((_stored(datetime.fromtimestamp(moment, UTC)), seconds) for moment, seconds in spans)


def _stored(moment: datetime) -> str:
    # What Django's SQLite backend stores for an aware datetime: naive UTC, a space between date and time.
    return str(moment.astimezone(UTC).replace(tzinfo=None))
