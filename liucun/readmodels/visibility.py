"""How far a consumer may read the event store without skipping an event that is not visible yet.

Event ids come from a sequence, but transactions commit in their own order. On PostgreSQL a reader can
see id 11 committed while id 10 belongs to a transaction still running: a consumer that moved its
watermark to 11 would never read 10. An id can also be burnt for good (a rolled-back transaction, or
an ON CONFLICT DO NOTHING duplicate delivery, which takes a sequence value and stores nothing), so
waiting for every gap to fill would stall forever.

The rule: a consumer reads contiguous ids freely, and stops at a gap until the gap is *settled*. After
reading ids up to N, the reader notes the first transaction id not yet assigned (the snapshot's xmax).
Whoever holds a missing id below N took it before N was taken, so its transaction id is below that
mark; once the oldest running transaction is past the mark, that transaction has committed or rolled
back, and whatever is still missing below N never will appear. A grace period covers the instant
between taking a sequence value and writing the row (when the transaction may have no id yet).

SQLite lets one writer in at a time and never assigns an id below a visible one, so every gap it shows
is final at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection

GAP_GRACE = timedelta(seconds=2)


@dataclass(frozen=True)
class Reach:
    upto: int  # the highest id that may be consumed now (the watermark if nothing may)
    blocked: bool  # stopped in front of a gap that is not settled yet


def reach(ids: Sequence[int], watermark: int, settled_upto: int) -> Reach:
    """How far a consumer at `watermark` may go through the visible `ids` (ascending, all > watermark).

    A gap is passed only when every missing id in it is at or below `settled_upto`.
    """
    upto = watermark
    for event_id in ids:
        if event_id > max(upto + 1, settled_upto + 1):
            return Reach(upto, blocked=True)
        upto = event_id
    return Reach(upto, blocked=False)


def serial_ids() -> bool:
    """True where no id can become visible below one that is visible already (SQLite)."""
    return connection.vendor != "postgresql"


def transaction_horizon(cursor: Any) -> tuple[int, int]:
    """(oldest running transaction id, first unassigned transaction id), PostgreSQL only."""
    cursor.execute(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
        "pg_snapshot_xmax(pg_current_snapshot())::text::bigint"
    )
    xmin, xmax = cursor.fetchone()
    return int(xmin), int(xmax)


def fence_settled(
    *, fence_xid: int, seen_at: datetime, oldest_running_xid: int, now: datetime, grace: timedelta
) -> bool:
    return oldest_running_xid >= fence_xid and now - seen_at >= grace
