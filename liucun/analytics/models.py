"""The analytics app's read model: how many fans start and stop following, per account, China day, channel.

Rebuilt from the event store like every read model (readmodels/, ADR 15); analytics/following.py keeps it.
"""

from __future__ import annotations

from django.db import models

from liucun.accounts.models import OfficialAccount


class FollowingChange(models.Model):
    """Fans whose follow state changed on one day (site time zone), by the channel of their follow period.

    gained: a fan not following (or never seen) followed; lost: a following fan unfollowed (or a fan never
    seen to follow unfollowed: they followed before Liucun, under channel ""). A follow by a fan already
    following, or an unfollow by a fan already gone, changes nothing. Rows whose counts are zero are removed.
    """

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    channel = models.CharField(max_length=128, blank=True, default="")
    gained = models.IntegerField(default=0)
    lost = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "channel"], name="followingchange_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel or '-'}: +{self.gained} -{self.lost}"


class FollowingFanCursor(models.Model):
    """Per fan, the follow state after the latest follow or unfollow the consumer handled (by WeChat time,
    then id), and the channel of the follow that opened the current period."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    openid = models.CharField(max_length=64)
    last_at = models.DateTimeField()
    last_event_id = models.BigIntegerField()
    following = models.BooleanField()
    channel = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="followingfancursor_unique_fan"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} at event {self.last_event_id}"


class FollowingSnapshot(models.Model):
    """The fans table's following count of an account, taken with the "following" read model's net total at
    the same moment, so that "following now" is snapshot + (net total now - net total then) without counting
    a million rows per view. Refreshed by the worker (analytics/periodic.py); `exact` is False when traffic
    never paused long enough for the count and the read model to be read at one position of the event store.
    """

    account = models.OneToOneField(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    following = models.IntegerField()
    net_total = models.IntegerField()
    event_id = models.BigIntegerField()  # the read model's watermark when it was taken
    exact = models.BooleanField(default=True)
    taken_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.following} following at event {self.event_id}"
