"""Fans (粉丝) of an official account and their follow periods."""

from __future__ import annotations

from django.db import models

from liucun.accounts.models import OfficialAccount


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
            models.Index(fields=["account", "channel"], name="fan_channel"),
            models.Index(fields=["account", "last_interaction_at"], name="fan_last_interaction"),
            models.Index(fields=["account", "profile_refreshed_at"], name="fan_profile_refresh"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} ({'following' if self.is_following else 'not following'})"


class FollowSource(models.TextChoices):
    CALLBACK = "callback", "callback"
    SYNC = "sync", "follower sync"
    IMPORT = "import", "bulk import"
    RECONCILED = "reconciled", "reconciled by sync"


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
