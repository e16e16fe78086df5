"""Channels (渠道): names for the QR scenes fans follow through, and the parametric QR codes that carry them.

A channel's scene is what WeChat delivers in the subscribe event's EventKey without its "qrscene_" prefix,
which is exactly Fan.channel: a fan belongs to a channel by that string, with no foreign key, so naming
or deleting a channel never rewrites fans.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount

SCENE_MAX_CHARS = 64  # WeChat's scene_str limit, and Fan.channel's width
NAME_MAX_CHARS = 40
NOTE_MAX_CHARS = 200


class Channel(models.Model):
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="channels")
    scene = models.CharField(max_length=SCENE_MAX_CHARS)
    name = models.CharField(max_length=NAME_MAX_CHARS)
    note = models.CharField(max_length=NOTE_MAX_CHARS, blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")  # the actor's label
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "scene"], name="channel_unique_scene"),
            models.UniqueConstraint(fields=["account", "name"], name="channel_unique_name"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.scene})"


class QrKind(models.TextChoices):
    TEMPORARY = "temporary", _("Temporary")
    PERMANENT = "permanent", _("Permanent")


class QrCode(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="qrcodes")
    kind = models.CharField(max_length=10, choices=QrKind.choices)
    ticket = models.CharField(max_length=255)
    url = models.CharField(max_length=255, blank=True, default="")  # what the code encodes
    expires_at = models.DateTimeField(null=True, blank=True)  # None: permanent
    # The image as WeChat served it the first time: a ticket's image never changes, and a temporary code's
    # image stays downloadable here after WeChat stops serving it.
    image = models.BinaryField(null=True, blank=True, editable=False)
    image_type = models.CharField(max_length=40, blank=True, default="")
    created_by = models.CharField(max_length=150, blank=True, default="")  # the actor's label
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["channel", "created_at"], name="qrcode_by_channel")]

    def __str__(self) -> str:
        return f"{self.kind} code {self.pk} of channel {self.channel_id}"
