"""The fan-activity read model (liucun.activity.consumer): interactions per day, kind and channel, active
fans and the lifecycle split per day, week and month and channel, and one cursor per fan. Every table here
can be rebuilt from events; rows whose counts are all zero are removed, so a rebuild and the incremental
runs give equal rows. The channel is the fan's acquisition channel (definitions.py): each fan is in one,
so the whole account's numbers are the sum over the channels' rows.

Sizes at 1,000,000 fans over a year: at most 365 x 25 kind rows and 365 + 53 + 12 period rows per account
and channel that fans interacted from, and one cursor per fan that ever followed or interacted; never a row
per fan and day.
"""

from __future__ import annotations

from django.db import models

from liucun.accounts.models import OfficialAccount


class Granularity(models.TextChoices):
    DAY = "d", "day"
    WEEK = "w", "week"  # weeks start on Monday, as in China
    MONTH = "m", "month"


class ActivityKindDay(models.Model):
    """Interactions of one kind on one China day by fans of one channel: events, and the distinct fans who
    made them."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=64)
    channel = models.CharField(max_length=128, blank=True, default="")  # the QR scene, "" for none
    events = models.IntegerField(default=0)
    fans = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Channel last: a report over every channel reads a range of days and sums per day and kind.
            models.UniqueConstraint(
                fields=["account", "day", "kind", "channel"], name="activitykindday_unique_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.events} by {self.fans}"


class ActivityPeriod(models.Model):
    """Distinct active fans in one day, week (Monday) or month, and how they split (PostHog's lifecycle):
    new (first active period ever), returning (also active the period before), resurrecting (not active
    the period before, but earlier), and dormant (active the period before, not in this one); of the fans
    of one channel."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    granularity = models.CharField(max_length=1, choices=Granularity.choices)
    start = models.DateField()  # the period's first day
    channel = models.CharField(max_length=128, blank=True, default="")
    active = models.IntegerField(default=0)
    new = models.IntegerField(default=0)
    returning = models.IntegerField(default=0)
    resurrecting = models.IntegerField(default=0)
    dormant = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "granularity", "start", "channel"], name="activityperiod_unique_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.granularity} {self.start}: {self.active} active"


class ActivityFanCursor(models.Model):
    """Per fan, what the consumer needs to count the fan's next event without a query: the latest
    interaction handled (by WeChat time, then id; none yet for a fan who only followed), per kind the last
    China day the fan made one, the fan's channel and the first follow it comes from (none seen: "")."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    openid = models.CharField(max_length=64)
    last_at = models.DateTimeField(null=True)
    last_event_id = models.BigIntegerField(null=True)
    # {"text": "2026-07-01", "event.click": "2026-06-30"}: JSON text, read and written whole.
    kind_days = models.TextField(default="{}")
    channel = models.CharField(max_length=128, blank=True, default="")
    # The fan's first follow event stored (WeChat time, id): a follow later than it changes nothing.
    first_follow_at = models.DateTimeField(null=True)
    first_follow_id = models.BigIntegerField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="activityfancursor_unique_fan"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} at event {self.last_event_id}"
