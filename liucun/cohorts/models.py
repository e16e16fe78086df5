"""The stays rollup: follow periods by cohort day and channel, with how long the ended ones lasted.

Rebuilt from events (consumer.py). One row per account, cohort day and channel, whatever the number of
fans: a year of eight channels is about 2,900 rows, so a report over a year reads a few thousand rows.
"""

from __future__ import annotations

from bisect import bisect_right

from django.db import models

from liucun.accounts.models import OfficialAccount

# Where the stay bins start, in whole days stayed (floor of (unfollow - follow) / 24 h): every day up to
# 30 (the daily retention grid, "gone within 1 / 3 days", 30-day retention), every week to 12 weeks (the
# weekly grid), 90 days, then about a month. A threshold the reports ask about ("stayed at least t days")
# is always a bin start, so the answers are exact; only survival curves between bin starts are grouped.
BIN_STARTS: tuple[int, ...] = (
    *range(31),
    *range(35, 85, 7),
    90,
    *range(120, 361, 30),
    365,
)
BIN_COLUMNS: tuple[str, ...] = tuple(f"gone_{start}" for start in BIN_STARTS)


def bin_of(stay_days: int) -> int:
    """The index of the bin holding a stay of `stay_days` whole days."""
    return bisect_right(BIN_STARTS, stay_days) - 1


class CohortStays(models.Model):
    """Follow periods that began on `cohort_day` (a China day) through `channel` (the QR scene, "" for
    none): `fans` of them, and for those that ended, how many lasted how long: gone_<s> counts the
    periods whose whole days stayed fall in the bin starting at s. Still following = fans - sum(gone_*)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    cohort_day = models.DateField()
    channel = models.CharField(max_length=128, blank=True, default="")
    fans = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "cohort_day", "channel"], name="cohortstays_unique_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cohort_day} {self.channel or '-'}: {self.fans}"


for _column in BIN_COLUMNS:
    CohortStays.add_to_class(_column, models.IntegerField(default=0))


class StayFanCursor(models.Model):
    """Per fan, what the stays consumer needs to place the fan's next event without a query: the latest
    lifecycle event handled (by WeChat time, then id) and the open period's start and channel, if any."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    openid = models.CharField(max_length=64)
    last_at = models.DateTimeField()
    last_event_id = models.BigIntegerField()
    open_since = models.DateTimeField(null=True, blank=True)
    open_channel = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="stayfancursor_unique_fan"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} at event {self.last_event_id}"
