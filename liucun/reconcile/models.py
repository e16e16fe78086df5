"""WeChat's own follower statistics (datacube), as pulled, and where the pulling stands per account.

WeChat's figures are kept apart from Liucun's read models: they are what WeChat says, stored per China
day as WeChat dates them, replaced whole when a day is pulled again.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount


class WeChatDay(models.Model):
    """One day of getusercumulate, with getusersummary's rows of that day summed over user_source.

    A row exists once the day has been pulled (a day WeChat listed no follows has zeros), so "pulled"
    is a row, and the report reads one row per day."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    cumulate_user = models.IntegerField()
    new_user = models.IntegerField(default=0)
    cancel_user = models.IntegerField(default=0)
    pulled_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="wechatday_unique")]

    def __str__(self) -> str:
        return f"{self.day}: +{self.new_user} -{self.cancel_user} = {self.cumulate_user}"


class WeChatSourceDay(models.Model):
    """One row of getusersummary: a day's follows and unfollows from one user_source (0 other, 30 QR...)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    user_source = models.IntegerField()
    new_user = models.IntegerField(default=0)
    cancel_user = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "user_source"], name="wechatsourceday_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} source {self.user_source}: +{self.new_user} -{self.cancel_user}"


class SyncFoundDay(models.Model):
    """Follows Liucun learnt of from a follower sync rather than a callback, by the China day of the
    follow (the fan's subscribe_time): follow callbacks that never arrived, or fans from before Liucun.

    Follow periods are not events, so no read model counts them; the pull job refreshes this table
    whenever a sync has finished since the last refresh (PullState.found_refreshed_at)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    found = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="syncfoundday_unique")]

    def __str__(self) -> str:
        return f"{self.day}: {self.found} found by sync"


class PullStatus(models.TextChoices):
    IDLE = "idle", _("up to date")
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    # WeChat refused for good (48001: not allowed; a date refusal): waits for a person's "pull now".
    REFUSED = "refused", _("refused")
    # WeChat busy, unreachable, a quota: the next periodic run tries again.
    FAILED = "failed", _("failed")


class PullState(models.Model):
    """Where pulling WeChat's statistics stands for one account: what the console's status block shows."""

    account = models.OneToOneField(
        OfficialAccount, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=PullStatus.choices, default=PullStatus.IDLE)
    # The last refusal or failure: a stable code ("wechat.48001", "reconcile.not_verified"), WeChat's
    # errcode when it gave one (shown in the reader's language from wechat_refusals), and the English
    # sentence for anything else.
    error_code = models.CharField(max_length=40, blank=True, default="")
    errcode = models.IntegerField(null=True, blank=True)
    message = models.CharField(max_length=400, blank=True, default="")
    requested_by = models.CharField(max_length=150, blank=True, default="")
    # A run holds the account until then; a run whose worker died lets go when it passes.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    # Progress of the current (or last) run: days to pull and days pulled.
    days_wanted = models.IntegerField(default=0)
    days_done = models.IntegerField(default=0)
    # When SyncFoundDay was last made from the follow periods, and the follows it could not date.
    found_refreshed_at = models.DateTimeField(null=True, blank=True)
    found_undated = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.account_id}: {self.status}"
