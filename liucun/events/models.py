"""The append-only event store: every inbound message and event, exactly once per account.

Rows are never updated or deleted through the ORM; the single exception is privacy erasure, which goes
through liucun.events.actions.redact_fan_events and rewrites payloads, never times or kinds.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models

from liucun.accounts.models import OfficialAccount


class AppendOnlyError(Exception):
    """Code tried to change or delete a stored event."""


class EventQuerySet(models.QuerySet["Event"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the event store is append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("the event store is append-only")


class EventSource(models.TextChoices):
    CALLBACK = "callback", "WeChat callback"
    IMPORT = "import", "bulk import"
    SENT = "sent", "sent by Liucun"
    SYNC = "sync", "follower sync"


class Event(models.Model):
    id = models.BigAutoField(primary_key=True)
    # Its own index is not redundant with the unique (account, dedupe_key) one: on SQLite it is (account,
    # rowid), which finds an account's newest events without reading the others (the console overview).
    account = models.ForeignKey(OfficialAccount, on_delete=models.PROTECT, related_name="events")
    openid = models.CharField(max_length=64)
    kind = models.CharField(max_length=64)
    # msg:<MsgId> for messages, evt:<openid>:<CreateTime>:<Event> for events; unique per account.
    dedupe_key = models.CharField(max_length=200)
    wechat_time = models.DateTimeField()
    received_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=EventSource.choices, default=EventSource.CALLBACK)
    payload = models.JSONField()
    # The plaintext passive reply given the first time, so a retried delivery gets the same answer.
    reply = models.TextField(blank=True, default="")
    # The reply rule that answered (liucun.autoreply), kept without a foreign key: a rule may be deleted,
    # its hits in history stay. NULL: no rule answered (nothing, or the account's plain welcome text).
    rule_id = models.BigIntegerField(null=True, blank=True)
    # The rule handed the fan to a human: the inbox opens a conversation from such events.
    handoff = models.BooleanField(default=False, db_default=False)

    objects = EventQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "dedupe_key"], name="event_unique_delivery"),
        ]
        indexes = [
            models.Index(fields=["account", "openid", "wechat_time"], name="event_fan_timeline"),
            # Rule hits for the rules page; partial, so events no rule answered cost this index nothing.
            models.Index(
                fields=["account", "rule_id"],
                condition=models.Q(rule_id__isnull=False),
                name="event_rule_hits",
            ),
            # No index by kind or time: every index costs each callback, and analytics read count tables
            # filled by a job that walks events by primary key from a watermark.
        ]

    def __str__(self) -> str:
        return f"{self.kind} from {self.openid} at {self.wechat_time:%Y-%m-%d %H:%M:%S}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("the event store is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("the event store is append-only")
