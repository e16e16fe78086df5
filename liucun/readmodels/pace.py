"""How fast a run goes: when a consumer is far behind enough to rebuild set-based, and the size of each
batch of a replay (short while callbacks wait for SQLite's write lock, large while catching up)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.db.models import Max

from liucun.events.models import Event, EventSource
from liucun.readmodels.visibility import serial_ids

# A batch's write transaction should hold SQLite's write lock (which callbacks wait for) about this long
# at most: the batch shrinks when a write takes longer (a busy disk, a WAL checkpoint) and grows back.
WRITE_TARGET_SECONDS = 0.2
MIN_BATCH = 500

# Far behind: at least this many ids left to walk. Below it a replay takes seconds (fan-ordered history
# at the catch-up pace, `Pace`: 7,600 ids/s and more measured), and a set-based rebuild would rewrite
# every row and hold the write lock for seconds to save little.
CATCH_UP_FLOOR = 100_000
# A replay with a backlog and no callback waiting takes batches of up to this many events (`Pace`).
CATCH_UP_BATCH = 50_000
# ...and shrinks only past this write time: below WeChat's 5-second reply deadline, so a callback that
# comes in during such a write still gets its answer; the next batch then sees it and keeps to
# WRITE_TARGET_SECONDS again.
CATCH_UP_WRITE_SECONDS = 3.0
# Callbacks are coming in when one of the newest ids is a callback received this recently.
LIVE_WINDOW = timedelta(seconds=60)
LIVE_PROBE_IDS = 10_000


def has_backlog(watermark: int, head: int) -> bool:
    """At least CATCH_UP_FLOOR ids left to walk: a run catches up at the catch-up pace."""
    return head - watermark >= CATCH_UP_FLOOR


def far_behind(watermark: int, head: int) -> bool:
    """Whether a consumer at `watermark` is better rebuilt set-based from zero than replayed up to `head`.

    A set-based rebuild reads every id up to the head once; a replay walks the ids past the watermark,
    folding the consumer's events in one by one through Python. With at least as many ids left as folded
    already, the rebuild reads at most twice what the replay walks, and it is 2 to 70 times faster per id
    (50,000 fans x 90 days imported, SQLite, load 3: fan activity 64,800 ids/s against 890, menu clicks
    28,300 against 4,400, daily follows, which reads 2 % of the events, 352,000 against 185,000): never
    much slower, mostly far faster. Below CATCH_UP_FLOOR ids a replay is quick anyway. Two numbers, no
    scan: the head is the primary key's last entry."""
    return has_backlog(watermark, head) and head - watermark >= watermark


class Pace:
    """The size of each batch of a run.

    While callbacks wait for the write lock (SQLite, a callback came in lately) the batch is `batch` at
    most, halved after a write over WRITE_TARGET_SECONDS and grown back after quick ones, as short as
    the lock can be held. Otherwise (none came in lately, or PostgreSQL, where callbacks never wait for
    a consumer's write), a run that started far behind (at least CATCH_UP_FLOOR ids left) takes batches
    from CATCH_UP_BATCH, halved only past CATCH_UP_WRITE_SECONDS and never below `batch`, to its end.

    Why: such a backlog is mostly history imported fan by fan, where each batch rewrites nearly every
    day's rows, so a write costs about the same whatever the batch (fan activity, 50,000 fans x 90 days
    on SQLite: 1.1 s at 500 events, 2.3 s at 50,000) and halving it only multiplies the writes: 485
    events/s at 500, 2,760 at 5,000, 10,300 at 50,000.
    """

    def __init__(self, batch: int, far_behind: bool) -> None:
        self.batch, self.far_behind = batch, far_behind
        self.current = batch
        self.catching_up = False

    def size(self) -> int:
        catching_up = self.far_behind and not callbacks_waiting()
        if catching_up and not self.catching_up:
            self.current = max(self.batch, CATCH_UP_BATCH)
        elif not catching_up:
            self.current = min(self.current, self.batch)
        self.catching_up = catching_up
        return self.current

    def wrote(self, write_seconds: float) -> None:
        if self.catching_up:
            self.current = next_batch_size(
                self.current,
                write_seconds,
                ceiling=max(self.batch, CATCH_UP_BATCH),
                target=CATCH_UP_WRITE_SECONDS,
                floor=self.batch,
            )
        else:
            self.current = next_batch_size(self.current, write_seconds, ceiling=self.batch)


def callbacks_waiting(now: datetime | None = None) -> bool:
    """Whether a consumer's long write would hold callbacks back: on SQLite, while callbacks are coming in
    (one of the newest LIVE_PROBE_IDS events is a callback received within LIVE_WINDOW; a walk of the
    primary key's last entries). PostgreSQL's callbacks never wait for a consumer's write."""
    if not serial_ids():
        return False
    head = head_id()
    recent = (now or datetime.now(UTC)) - LIVE_WINDOW
    return Event.objects.filter(
        id__gt=head - LIVE_PROBE_IDS, source=EventSource.CALLBACK, received_at__gte=recent
    ).exists()


def head_id() -> int:
    return Event.objects.aggregate(head=Max("id"))["head"] or 0


def next_batch_size(
    size: int,
    write_seconds: float,
    *,
    ceiling: int,
    target: float = WRITE_TARGET_SECONDS,
    floor: int = MIN_BATCH,
) -> int:
    if write_seconds > target and size > floor:
        return max(floor, size // 2)
    if write_seconds < target / 4 and size < ceiling:
        return min(ceiling, size * 2)
    return size
