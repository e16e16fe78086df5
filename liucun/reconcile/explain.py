"""Reconciling the two sides day by day, and saying why they differ. Pure: no database.

Per pulled day since Liucun began: WeChat's new follows minus the follow callbacks Liucun received are
follow callbacks lost (a follower sync later finds those fans still following, dated on the day they
followed); WeChat's unfollows minus the unfollow callbacks received are unfollow callbacks lost, which a
later follower sync finds as fans gone (dated on the sync's day). Each sync's found unfollows are matched
to the oldest lost ones first, so a day says which sync found its losses. Followers at the end of a day
then differ by what is lost and not yet found, plus the fans of before Liucun when no sync brought them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta

from liucun.reconcile.figures import Liucun, Sides, days_between

MATCH = "match"  # both sides agree
FOUND = "found"  # they differ by lost callbacks that a follower sync has found since
LOST = "lost"  # they differ by lost callbacks that no sync has found yet
UNEXPLAINED = "unexplained"
BEFORE_LIUCUN = "before_liucun"  # Liucun had not received anything yet
NOT_PULLED = "not_pulled"
NOT_PUBLISHED = "not_published"  # WeChat publishes a day the next morning


@dataclass
class DayLine:
    day: date
    status: str = NOT_PULLED
    wechat_new: int | None = None
    wechat_unfollows: int | None = None
    wechat_cumulate: int | None = None
    liucun: Liucun = field(default_factory=Liucun)
    liucun_following: int = 0
    lost_follows: int = 0  # WeChat's new follows beyond the callbacks received
    lost_unfollows: int = 0
    extra_follows: int = 0  # callbacks received beyond WeChat's count (not a loss: unexplained)
    extra_unfollows: int = 0
    found_follows: int = 0  # of the lost follows, those a sync found (dated this day)
    unfollows_found_by: list[tuple[date, int]] = field(default_factory=list)  # (sync day, how many)
    reconciled_of_earlier: int = 0  # this day's sync found unfollows lost before the days compared
    cumulate_difference: int | None = None
    cumulate_explained: bool = True
    pending_unfollows: int = 0  # lost unfollows no sync had found by the end of the day
    unfound_follows: int = 0  # lost follows no sync had found, up to this day
    unresolved: int = 0  # callbacks lost up to this day that no sync has found to this day (today)

    @property
    def new_difference(self) -> int | None:
        return None if self.wechat_new is None else self.wechat_new - self.liucun.new

    @property
    def unfollow_difference(self) -> int | None:
        return None if self.wechat_unfollows is None else self.wechat_unfollows - self.liucun.unfollows

    @property
    def unfollows_found(self) -> int:
        return sum(n for _, n in self.unfollows_found_by)


def reconcile(sides: Sides, latest_published: date) -> list[DayLine]:
    """One line per day from sides.first to sides.last."""
    lines: list[DayLine] = []
    following = sides.following_before
    pending: deque[_Waiting] = deque()
    unfound_follows = 0
    offset: int | None = None  # the followers' difference on the day before Liucun began
    since = sides.liucun_since
    for day in days_between(sides.first, sides.last):
        ours = sides.liucun.get(day, Liucun())
        line = DayLine(day, liucun=ours)
        following += ours.new + ours.found - ours.unfollows - ours.reconciled
        line.liucun_following = following
        theirs = sides.wechat.get(day)
        if theirs is None:
            line.status = NOT_PUBLISHED if day > latest_published else NOT_PULLED
        else:
            line.wechat_new, line.wechat_unfollows = theirs.new, theirs.unfollows
            line.wechat_cumulate = theirs.cumulate
            line.cumulate_difference = theirs.cumulate - following
            if since is None or day < since:
                line.status = BEFORE_LIUCUN
                offset = line.cumulate_difference
            else:
                line.status = MATCH  # until the differences are weighed, below
                _compare(line, ours, theirs.new, theirs.unfollows)
                unfound_follows += line.lost_follows - line.found_follows
                if line.lost_unfollows:
                    pending.append(_Waiting(line, line.lost_unfollows))
        _match_sync(line, ours.reconciled, day, pending)
        if line.status not in (NOT_PULLED, NOT_PUBLISHED, BEFORE_LIUCUN):
            line.pending_unfollows = sum(w.left for w in pending)
            line.unfound_follows = unfound_follows
            expected = (offset or 0) + unfound_follows - line.pending_unfollows
            line.cumulate_explained = line.cumulate_difference == expected
        lines.append(line)
    for day, reconciled in sorted(sides.reconciled_after.items()):
        _match_sync(None, reconciled, day, pending)
    unresolved = 0
    for line in lines:
        if line.status in (NOT_PULLED, NOT_PUBLISHED, BEFORE_LIUCUN):
            continue
        unresolved += line.lost_follows - line.found_follows + line.lost_unfollows - line.unfollows_found
        line.unresolved = unresolved
        line.status = _status(line)
    return lines


def _status(line: DayLine) -> str:
    if line.extra_follows or line.extra_unfollows or not line.cumulate_explained:
        return UNEXPLAINED
    if line.lost_follows > line.found_follows or line.lost_unfollows > line.unfollows_found:
        return LOST
    if line.cumulate_difference and line.unresolved:
        return LOST
    if line.lost_follows or line.lost_unfollows or line.cumulate_difference:
        return FOUND
    return MATCH


def _compare(line: DayLine, ours: Liucun, wechat_new: int, wechat_unfollows: int) -> None:
    line.lost_follows = max(0, wechat_new - ours.new)
    line.extra_follows = max(0, ours.new - wechat_new)
    line.found_follows = min(line.lost_follows, ours.found)
    line.lost_unfollows = max(0, wechat_unfollows - ours.unfollows)
    line.extra_unfollows = max(0, ours.unfollows - wechat_unfollows)


@dataclass
class _Waiting:
    line: DayLine
    left: int  # lost unfollows of the line no sync has found yet


def _match_sync(line: DayLine | None, reconciled: int, day: date, pending: deque[_Waiting]) -> None:
    """A sync's found unfollows explain the oldest lost ones first (a sync finds every fan gone so far)."""
    left = reconciled
    while left and pending:
        waiting = pending[0]
        take = min(left, waiting.left)
        waiting.line.unfollows_found_by.append((day, take))
        waiting.left -= take
        left -= take
        if waiting.left == 0:
            pending.popleft()
    if line is not None:
        line.reconciled_of_earlier = left


def lookback_start(start: date, days: int = 31) -> date:
    """Where to begin matching so that losses shortly before the range still meet their sync."""
    return start - timedelta(days=days)
