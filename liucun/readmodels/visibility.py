"""How far a consumer may read the event store without skipping an event that is not visible yet.

Event ids come from a sequence, but transactions commit in their own order. On PostgreSQL a reader can
see id 11 committed while id 10 belongs to a transaction still running: a consumer that moved its
watermark to 11 would never read 10. An id can also be burnt for good (a rolled-back transaction, or
an ON CONFLICT DO NOTHING duplicate delivery, which takes a sequence value and stores nothing), so
waiting for every gap to fill would stall forever.

The rule: a consumer reads contiguous ids freely, and stops at a gap until the gap is *settled*. After
reading ids up to N, the reader notes the first transaction id not yet assigned (`transaction_horizon`).
Whoever holds a missing id below N took it before N was taken, so its transaction id is below that
mark; once the oldest transaction still running in this database is past the mark, that transaction has
committed or rolled back, and whatever is still missing below N never will appear. A grace period
covers the instant between taking a sequence value and writing the row (when the transaction may have
no id yet).

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


# Only this database's running transactions can hold an event id: one of another database on the same
# server (a long report, another application, the other test worker) must not hold a gap open, so the
# snapshot's xmin (the whole cluster's) is not the oldest that matters. And the snapshot's xmax is one
# past the highest *completed* transaction, not the next to be assigned: a transaction that took an id
# and is still running may be at or above it. Both come from pg_stat_activity's backend_xid instead,
# which has no epoch: it is widened to 64 bits next to the snapshot's xmax (running ids are always within
# 2^31 of each other). The reader's own transaction is left out: its rows are visible to it, so it never
# holds a gap it sees (a reader inside a transaction that wrote would otherwise wait for itself).
_HORIZON = (
    "SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint, datname = current_database(),"
    " backend_xid::text::bigint FROM pg_stat_activity"
    " WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
)
_XID_SPACE = 1 << 32


def widened(xid32: int, near: int) -> int:
    """The 64-bit transaction id whose low 32 bits are xid32, closest to the 64-bit id `near`."""
    delta = (xid32 - near) % _XID_SPACE
    return near + delta if delta < _XID_SPACE // 2 else near + delta - _XID_SPACE


def horizon_of(xmax: int, running: list[tuple[bool, int]]) -> tuple[int, int]:
    """(oldest running in this database, next to be assigned) from the snapshot's xmax and the backends'
    (in this database, 32-bit xid)."""
    ids = [(here, widened(xid, xmax)) for here, xid in running]
    next_xid = max([xmax, *(xid + 1 for _here, xid in ids)])
    return min([next_xid, *(xid for here, xid in ids if here)]), next_xid


def transaction_horizon(cursor: Any) -> tuple[int, int]:
    """(oldest transaction id still running in this database, first one not assigned yet), PostgreSQL.

    A holder of a missing id that has written its row has a transaction id below the second number;
    once the first number reaches a fence taken earlier, every such holder has ended."""
    cursor.execute(_HORIZON)
    rows = cursor.fetchall()
    if not rows:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        (xmax,) = cursor.fetchone()
        return int(xmax), int(xmax)
    return horizon_of(int(rows[0][0]), [(bool(here), int(xid)) for _x, here, xid in rows])


def fence_settled(
    *, fence_xid: int, seen_at: datetime, oldest_running_xid: int, now: datetime, grace: timedelta
) -> bool:
    return oldest_running_xid >= fence_xid and now - seen_at >= grace
