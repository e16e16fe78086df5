"""The one outbound log: every customer-service message Liucun sends to a fan, and what WeChat answered.

Passive replies stay on the event they answered (events.Event.reply); liucun/outbound/queries.py shows
both as one list. A row is claimed (queued -> sending) before WeChat is called and never sent twice:
WeChat's message/custom/send has no idempotency key, so a send whose outcome was lost is "unknown".
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount


class Status(models.TextChoices):
    QUEUED = "queued", _("queued")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    REFUSED = "refused", _("refused")
    FAILED = "failed", _("failed")
    # Claimed, WeChat perhaps called, outcome never recorded: it may or may not have reached the fan.
    UNKNOWN = "unknown", _("unknown")


class Source(models.TextChoices):
    AGENT = "agent", _("agent")
    RULE = "rule", _("reply rule")
    SYSTEM = "system", _("system")


FINAL = (Status.SENT, Status.REFUSED, Status.FAILED, Status.UNKNOWN)


class OutboundMessage(models.Model):
    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.PROTECT, related_name="outbound_messages")
    openid = models.CharField(max_length=64)
    fan = models.ForeignKey("fans.Fan", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=32)  # WeChat's msgtype: text, image, news, ...
    # {"msgtype": kind, kind: {...}}: the body message/custom/send takes, without touser.
    content = models.JSONField()
    source = models.CharField(max_length=16, choices=Source.choices)
    rule_id = models.BigIntegerField(null=True, blank=True)
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The inbox's conversation; no foreign key, so the inbox may depend on this app and not the reverse.
    conversation_id = models.BigIntegerField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=100)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    errcode = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")  # the operator's sentence
    created_at = models.DateTimeField(auto_now_add=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    # When a delivery task was last enqueued: the periodic pass re-enqueues a queued row whose task was lost.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # Set when the content was erased for privacy (kind, times, source and status are kept).
    content_erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "idempotency_key"], name="outbound_unique_key"),
        ]
        indexes = [
            models.Index(fields=["account", "openid", "created_at"], name="outbound_fan_timeline"),
            # The periodic pass: queued rows whose task was lost, sending rows whose worker died.
            models.Index(fields=["status", "enqueued_at"], name="outbound_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.openid} ({self.status})"
