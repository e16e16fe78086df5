"""Fans (粉丝) of an official account and their follow periods."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from liucun.accounts.models import OfficialAccount
from liucun.jobs.models import JobStatus, LongJob


class Fan(models.Model):
    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.PROTECT, related_name="fans")
    openid = models.CharField(max_length=64)
    unionid = models.CharField(max_length=64, blank=True, default="")
    is_following = models.BooleanField(default=False)
    # WeChat time of the follow/unfollow that set is_following; an older event arriving late cannot undo it.
    follow_state_at = models.DateTimeField(null=True, blank=True)
    first_followed_at = models.DateTimeField(null=True, blank=True)
    followed_at = models.DateTimeField(null=True, blank=True)
    unfollowed_at = models.DateTimeField(null=True, blank=True)
    follow_count = models.PositiveIntegerField(default=0)
    unfollow_count = models.PositiveIntegerField(default=0)
    # Acquisition channel: the QR scene of the first follow we know of ("" for search, article, ...).
    channel = models.CharField(max_length=64, blank=True, default="")
    subscribe_scene = models.CharField(max_length=40, blank=True, default="")
    # A message from the fan opens the 48-hour customer-service window.
    last_message_at = models.DateTimeField(null=True, blank=True)
    # A click, follow or scan opens a short window (3 messages within a minute).
    last_event_at = models.DateTimeField(null=True, blank=True)
    last_interaction_at = models.DateTimeField(null=True, blank=True)
    # When user/info (unionid, subscribe_scene) was last read; null = never, so a job will read it.
    profile_refreshed_at = models.DateTimeField(null=True, blank=True)
    # The follower sync that last found this fan in WeChat's follower list (reconciliation marks).
    last_seen_sync = models.BigIntegerField(null=True, blank=True)
    # When personal data was last erased (privacy policy on unfollow, or a fan's request).
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)
    remark = models.CharField(max_length=30, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="fan_unique_openid"),
        ]
        indexes = [
            models.Index(fields=["account", "is_following", "followed_at"], name="fan_following"),
            # Fan list counts that join another table by fan id (a tag's members): PostgreSQL reads the
            # following fans' ids from this index alone, in id order, instead of scanning every row.
            models.Index(fields=["account", "is_following", "id"], name="fan_following_ids"),
            # Fan list: "following from this channel, newest first" and its count, from the index alone.
            models.Index(
                fields=["account", "channel", "is_following", "followed_at"], name="fan_channel_following"
            ),
            # Fan list: every fan, newest (or oldest) follow first.
            models.Index(fields=["account", "followed_at"], name="fan_followed"),
            models.Index(fields=["account", "last_interaction_at"], name="fan_last_interaction"),
            models.Index(fields=["account", "profile_refreshed_at"], name="fan_profile_refresh"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} ({'following' if self.is_following else 'not following'})"


class FollowSource(models.TextChoices):
    # "callback" alone is also the name of the server URL on the settings page; the context keeps the two
    # translations apart (the follow arrived as a WeChat event push, 事件推送).
    CALLBACK = "callback", pgettext_lazy("follow source", "callback")
    SYNC = "sync", _("follower sync")
    IMPORT = "import", _("bulk import")
    RECONCILED = "reconciled", _("reconciled by sync")


class FollowPeriod(models.Model):
    """One stretch of following: the pseudonymous lifecycle record kept for retention statistics."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.PROTECT, related_name="follow_periods")
    fan = models.ForeignKey(Fan, on_delete=models.CASCADE, related_name="follow_periods")
    # None when the fan was already following before Liucun saw them.
    followed_at = models.DateTimeField(null=True, blank=True)
    unfollowed_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=64, blank=True, default="")
    follow_source = models.CharField(max_length=16, choices=FollowSource.choices, blank=True, default="")
    unfollow_source = models.CharField(max_length=16, choices=FollowSource.choices, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["account", "followed_at"], name="period_cohort"),
            models.Index(fields=["fan", "followed_at"], name="period_fan"),
        ]

    def __str__(self) -> str:
        return f"{self.fan_id}: {self.followed_at} - {self.unfollowed_at}"


# The one vocabulary of job statuses (queued, running, done, failed), under the name callers know.
SyncStatus = JobStatus


class SyncJob(LongJob):
    """One follower sync: user/get page by page, then reconciliation both ways.

    The checkpoint (next_openid and pages_done) commits with each page's writes, so a sync that dies is
    resumed after its last finished page, never redoing one. A failed sync waits for a person (its cause,
    a refused secret or an exhausted quota, needs one first); a stalled one is resumed on its own.
    """

    job_task = "liucun.fans.tasks.sync_followers"
    progress_fields = ("seen", "total")

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="sync_jobs")
    next_openid = models.CharField(max_length=64, blank=True, default="")
    pages_done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)  # followers according to WeChat
    seen = models.PositiveIntegerField(default=0)
    created_fans = models.PositiveIntegerField(default=0)
    refollowed = models.PositiveIntegerField(default=0)  # believed gone, found following
    reconciled_unfollows = models.PositiveIntegerField(default=0)  # believed following, not found

    class Meta:
        indexes = [models.Index(fields=["account", "status"], name="sync_account_status")]

    def __str__(self) -> str:
        return f"sync {self.pk} of {self.account_id}: {self.status} {self.seen}/{self.total}"
