"""Consumer bookkeeping and the tables the consumers maintain. Every table here can be rebuilt from events."""

from __future__ import annotations

from django.db import models

from liucun.accounts.models import OfficialAccount


class ConsumerState(models.Model):
    """Where one consumer has read the event store up to, and who is running it."""

    name = models.CharField(max_length=64, primary_key=True)
    # Every event with id <= last_event_id has been handled (or will never become visible).
    last_event_id = models.BigIntegerField(default=0)
    events_seen = models.BigIntegerField(default=0)
    # The consumer's logic version and settings (time zone) its tables were built with.
    fingerprint = models.CharField(max_length=200, blank=True, default="")
    updated_at = models.DateTimeField(auto_now=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    # The highest event id seen at the last run: the distance to it is the consumer's lag.
    head_event_id = models.BigIntegerField(default=0)
    owner = models.CharField(max_length=100, blank=True, default="")
    lease_until = models.DateTimeField(null=True, blank=True)
    # Gaps in the id sequence at or below this id are final: the ids were burnt, never committed.
    settled_upto = models.BigIntegerField(default=0)
    # A gap waiting to settle (PostgreSQL): ids up to gap_fence_id are final once every transaction
    # older than gap_fence_xid has ended and gap_seen_at is past the grace period.
    gap_fence_id = models.BigIntegerField(null=True, blank=True)
    gap_fence_xid = models.BigIntegerField(null=True, blank=True)
    gap_seen_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at event {self.last_event_id}"


class DailyFollows(models.Model):
    """Follows and unfollows of one account on one day (the account's time zone) from one channel.

    channel is the QR scene of the follow ("" for search, articles and other scenes); an unfollow counts
    under the channel of the fan's latest follow before it. Rows whose counts are all zero are removed.
    """

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    channel = models.CharField(max_length=128, blank=True, default="")
    follows = models.IntegerField(default=0)  # the fan's first follow or unfollow we know of
    refollows = models.IntegerField(default=0)  # a follow after an earlier follow or unfollow
    unfollows = models.IntegerField(default=0)  # unfollows WeChat told us of
    reconciled_unfollows = models.IntegerField(default=0)  # unfollows a follower sync found

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "channel"], name="dailyfollows_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel or '-'}: +{self.follows + self.refollows} -{self.unfollows}"


class FollowFanCursor(models.Model):
    """Per fan, what the daily-follows consumer needs to classify the fan's next event without a query:
    the latest follow or unfollow it has handled (by WeChat time, then id) and the latest follow's channel."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    openid = models.CharField(max_length=64)
    last_at = models.DateTimeField()
    last_event_id = models.BigIntegerField()
    channel = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="followfancursor_unique_fan"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} at event {self.last_event_id}"
