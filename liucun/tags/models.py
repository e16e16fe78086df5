"""Tags (标签) and the blacklist (黑名单), copies of what WeChat holds, kept two-way.

WeChat is the authority: every change is made there first and only then here, and a pull rebuilds the
copy from WeChat (tags made in the WeChat backend, fans WeChat untagged on unfollow).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.jobs.models import JobStatus, LongJob

# WeChat's own tags: 0 and 1 are reserved, 2 is 星标组 (starred). They cannot be renamed or deleted.
SYSTEM_TAG_IDS = frozenset({0, 1, 2})


class Tag(models.Model):
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="tags")
    wechat_id = models.IntegerField()
    name = models.CharField(max_length=30)
    # Followers WeChat counts under the tag (from the last pull) or that we tagged since.
    fan_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "wechat_id"], name="tag_unique_wechat_id"),
            models.UniqueConstraint(fields=["account", "name"], name="tag_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.wechat_id})"

    @property
    def is_system(self) -> bool:
        return self.wechat_id in SYSTEM_TAG_IDS


class FanTag(models.Model):
    id = models.BigAutoField(primary_key=True)
    fan = models.ForeignKey(Fan, on_delete=models.CASCADE, related_name="fantags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="fantags")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["fan", "tag"], name="fantag_unique")]
        # The fan list's tag filter reads by tag; the fan page and the 20-a-fan check read by fan.
        indexes = [models.Index(fields=["tag", "fan"], name="fantag_by_tag")]

    def __str__(self) -> str:
        return f"fan {self.fan_id} has tag {self.tag_id}"


class BlacklistEntry(models.Model):
    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="blacklist")
    openid = models.CharField(max_length=64)
    fan = models.ForeignKey(Fan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    since = models.DateTimeField(auto_now_add=True)  # when Liucun first saw the fan on the list

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "openid"], name="blacklist_unique")]

    def __str__(self) -> str:
        return f"{self.openid} blacklisted on {self.account_id}"


class TagJobKind(models.TextChoices):
    TAG = "tag", _("tag fans")
    UNTAG = "untag", _("untag fans")
    PULL = "pull", _("pull tags from WeChat")


# The one vocabulary of job statuses (queued, running, done, failed), under the name callers know.
TagJobStatus = JobStatus


class TagJob(LongJob):
    """A long tag operation, over either an explicit list of openids or every following fan matching a
    stored filter (never the filter's openids: "tag every fan of this filter" may mean 700,000 fans).

    The checkpoint commits with each batch's writes, so a job that dies resumes after its last finished
    batch (WeChat's tagging is idempotent, so a batch sent again before its checkpoint committed does no
    harm): for a list, `done` is the position in `openids`; for a filter, `last_fan_id` is the id of the
    last fan handled, fans being walked in id order. `done` counts the fans handled either way.
    """

    job_task = "liucun.tags.tasks.run_tag_job"

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="tag_jobs")
    kind = models.CharField(max_length=8, choices=TagJobKind.choices)
    tag = models.ForeignKey(Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    openids = models.JSONField(default=list, blank=True)
    # FanFilter.to_json() of "every fan matching this filter" (null for a list of openids or a pull).
    fan_filter = models.JSONField(null=True, blank=True)
    last_fan_id = models.BigIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["account", "status"], name="tagjob_account_status")]

    def __str__(self) -> str:
        return f"tag job {self.pk}: {self.kind} {self.status} {self.done}/{self.total}"
