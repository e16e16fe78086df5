"""The fan-activity read model (liucun.activity.consumer): interactions per day and kind, active fans and
the lifecycle split per day, week and month, and one cursor per fan. Every table here can be rebuilt from
events; rows whose counts are all zero are removed, so a rebuild and the incremental runs give equal rows.

Sizes at 1,000,000 fans over a year: about 365 x 25 kind rows, 365 + 53 + 12 period rows per account,
and one cursor per fan that ever interacted; never a row per fan and day.
"""

from __future__ import annotations

from django.db import models

from liucun.accounts.models import OfficialAccount


class Granularity(models.TextChoices):
    DAY = "d", "day"
    WEEK = "w", "week"  # weeks start on Monday, as in China
    MONTH = "m", "month"


class ActivityKindDay(models.Model):
    """Interactions of one kind on one China day: events, and the distinct fans who made them."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kind = models.CharField(max_length=64)
    events = models.IntegerField(default=0)
    fans = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "kind"], name="activitykindday_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.events} by {self.fans}"


class ActivityPeriod(models.Model):
    """Distinct active fans in one day, week (Monday) or month, and how they split (PostHog's lifecycle):
    new (first active period ever), returning (also active the period before), resurrecting (not active
    the period before, but earlier), and dormant (active the period before, not in this one)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    granularity = models.CharField(max_length=1, choices=Granularity.choices)
    start = models.DateField()  # the period's first day
    active = models.IntegerField(default=0)
    new = models.IntegerField(default=0)
    returning = models.IntegerField(default=0)
    resurrecting = models.IntegerField(default=0)
    dormant = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "granularity", "start"], name="activityperiod_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.granularity} {self.start}: {self.active} active"


class ActivityFanCursor(models.Model):
    """Per fan, what the consumer needs to count the fan's next interaction without a query: the latest
    one handled (by WeChat time, then id) and, per kind, the last China day the fan made one."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    openid = models.CharField(max_length=64)
    last_at = models.DateTimeField()
    last_event_id = models.BigIntegerField()
    # {"text": "2026-07-01", "event.click": "2026-06-30"}: JSON text, read and written whole.
    kind_days = models.TextField(default="{}")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="activityfancursor_unique_fan"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} at event {self.last_event_id}"
