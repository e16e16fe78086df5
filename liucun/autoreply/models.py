"""Reply rules: what a fan's message or event gets answered with, per account.

A rule is matched by its trigger (and, for keywords, its match mode) against `values`, then must pass
its validity dates and conditions; the highest priority wins. `RuleSet.version` is bumped in the same
transaction as every write, so each process's compiled matcher knows when to recompile (matcher.py).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount


class Trigger(models.TextChoices):
    FOLLOW = "follow", _("Follow (welcome)")
    SCAN = "scan", _("Scan by a follower")
    KEYWORD = "keyword", _("Keyword")
    CLICK = "click", _("Menu click")
    MESSAGE_TYPE = "message_type", _("Message type")
    OUT_OF_HOURS = "out_of_hours", _("Out of service hours")
    DEFAULT = "default", _("Default reply")


class Match(models.TextChoices):
    EXACT = "exact", _("is exactly")
    CONTAINS = "contains", _("contains")
    REGEX = "regex", _("matches the regular expression")


class ReplyMode(models.TextChoices):
    RANDOM = "random", _("one of them at random")
    SEQUENCE = "sequence", _("the first, then the rest as customer-service messages")


class Rule(models.Model):
    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="reply_rules")
    name = models.CharField(max_length=60)
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    match = models.CharField(max_length=8, choices=Match.choices, blank=True, default="")
    # Keywords, QR scenes, menu keys or message types, by trigger; empty for follow/scan means "any".
    values = models.JSONField(default=list, blank=True)
    # {"tags": [tag ids], "channels": [scenes], "new_within_days": n, "window_open": bool}; all must hold.
    conditions = models.JSONField(default=dict, blank=True)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    priority = models.IntegerField(default=0)  # higher first; ties go to the older rule
    enabled = models.BooleanField(default=True)
    reply_mode = models.CharField(max_length=8, choices=ReplyMode.choices, default=ReplyMode.RANDOM)
    # [{"type": "text", "text": ...} | {"type": "image"|"voice", "media_id"} | {"type": "video", ...}
    #  | {"type": "news", "title", "description", "url", "picurl"}]
    replies = models.JSONField(default=list, blank=True)
    handoff = models.BooleanField(default=False)  # hand the fan to a human (the inbox opens a conversation)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["account", "trigger"], name="rule_by_trigger")]

    def __str__(self) -> str:
        return f"{self.trigger} rule {self.name}"


class RuleSet(models.Model):
    """One row per account with rules: the version every process compares with its compiled copy."""

    account = models.OneToOneField(
        OfficialAccount, on_delete=models.CASCADE, primary_key=True, related_name="rule_set"
    )
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"rules of account {self.account_id} at version {self.version}"
