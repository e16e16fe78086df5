"""The moments push impact judges (Push) and the hourly rollup it judges them with (HourlyFlows).

HourlyFlows is a read model (consumer.py): it can be rebuilt from the event store at any time.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount

TITLE_MAX_CHARS = 120
NOTE_MAX_CHARS = 500


class PushSource(models.TextChoices):
    # Liucun's own pushes: none exist yet. The pushes app will create these rows with `liucun_push_id`
    # and, when it holds fans out, the holdout fields below (the seam for the causal comparison).
    LIUCUN = "liucun", _("Sent by Liucun")
    PUBLISHED = "published", _("Published in WeChat")
    CSV = "csv", _("From a CSV")
    ANNOTATION = "annotation", _("Annotated")


class Push(models.Model):
    """A moment whose effect on unfollows is judged: a push, a published article, or an annotation."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    title = models.CharField(max_length=TITLE_MAX_CHARS)
    source = models.CharField(max_length=16, choices=PushSource.choices)
    note = models.CharField(max_length=NOTE_MAX_CHARS, blank=True, default="")
    # WeChat's article_id for a published article; empty otherwise.
    external_id = models.CharField(max_length=128, blank=True, default="")
    # The seam for Liucun's own pushes (no such table yet): their id, and with a holdout the counts
    # of recipients and held-out fans, and of those who unfollowed within 72 hours of the push.
    liucun_push_id = models.BigIntegerField(null=True, blank=True)
    recipients = models.IntegerField(null=True, blank=True)
    recipients_unfollowed = models.IntegerField(null=True, blank=True)
    holdout = models.IntegerField(null=True, blank=True)
    holdout_unfollowed = models.IntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            # The same moment entered twice (a CSV uploaded again, a re-import) is one push.
            models.UniqueConstraint(fields=["account", "at", "title"], name="push_unique_moment"),
        ]
        indexes = [models.Index(fields=["account", "at"], name="push_account_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.title}"


class HourlyFlows(models.Model):
    """Follows and unfollows of one account in one hour from one channel.

    `hour` counts whole hours since 1970-01-01 00:00 UTC (unix time // 3600): China has no daylight
    saving, so each is also one China hour, 8 h on; an integer keeps window arithmetic and reads cheap.
    An unfollow counts under the channel of the fan's latest follow before it, as in daily follows;
    `reconciled` are unfollows a follower sync found (their hour is the sync's, the only time known):
    they lower the audience but are not counted as unfollows of that hour. Rows of all zeros are removed.
    """

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    hour = models.IntegerField()
    channel = models.CharField(max_length=128, blank=True, default="")
    follows = models.IntegerField(default=0)  # follows and refollows
    unfollows = models.IntegerField(default=0)
    reconciled = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Also the index of every read: (account, hour range), optionally one channel.
            models.UniqueConstraint(fields=["account", "hour", "channel"], name="hourlyflows_unique_hour"),
        ]

    def __str__(self) -> str:
        return f"hour {self.hour} {self.channel or '-'}: +{self.follows} -{self.unfollows}"


class HourlyTotals(models.Model):
    """HourlyFlows summed over channels, kept by the same consumer: the all-channels report reads one row
    an hour (8,760 a year) instead of one per channel and hour."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    hour = models.IntegerField()
    follows = models.IntegerField(default=0)
    unfollows = models.IntegerField(default=0)
    reconciled = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "hour"], name="hourlytotals_unique_hour"),
        ]

    def __str__(self) -> str:
        return f"hour {self.hour}: +{self.follows} -{self.unfollows}"


class FlowFanCursor(models.Model):
    """Per fan, the latest follow or unfollow the hourly consumer handled and the latest follow's channel."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    openid = models.CharField(max_length=64)
    last_at = models.DateTimeField()
    last_event_id = models.BigIntegerField()
    channel = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="flowfancursor_unique_fan"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} at event {self.last_event_id}"
