"""The customer-service inbox: one conversation per fan, who works it, notes, canned replies, settings.

A conversation's fan-side columns (messages, last_fan_message_at, handoff_at, last_event_id) are a read
model kept by liucun.inbox.consumer off the event store; its agent-side columns (assignee, replies,
first_response_at, resolved_at, read_messages) are written by liucun.inbox.actions. The state is a
function of both (liucun.inbox.states.state_after_fan_message and the actions), see docs/adr/0020.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan


class State(models.TextChoices):
    OPEN = "open", _("waiting on us")  # the fan waits for us
    WAITING = "waiting", _("waiting on fan")  # we answered; the fan's turn
    RESOLVED = "resolved", _("resolved")


class OpenedBy(models.TextChoices):
    MESSAGE = "message", _("a fan's message")
    HANDOFF = "handoff", _("a rule handing to a human")
    AGENT = "agent", _("an agent")


class Conversation(models.Model):
    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="conversations")
    openid = models.CharField(max_length=64)
    fan = models.ForeignKey(Fan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    state = models.CharField(max_length=16, choices=State.choices, default=State.OPEN)
    opened_by = models.CharField(max_length=16, choices=OpenedBy.choices, default=OpenedBy.MESSAGE)
    # The start of the current cycle (opened, or reopened after being resolved).
    opened_at = models.DateTimeField()
    # The oldest fan message nobody has answered yet; None once answered. "Oldest waiting first" sorts by it.
    waiting_since = models.DateTimeField(null=True, blank=True)
    # Fan side (the consumer).
    last_fan_message_at = models.DateTimeField(null=True, blank=True)
    messages = models.PositiveIntegerField(default=0)
    handoff_at = models.DateTimeField(null=True, blank=True)
    last_event_id = models.BigIntegerField(default=0)
    # Agent side (the actions).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    read_messages = models.PositiveIntegerField(default=0)  # unread = messages - read_messages
    replies = models.PositiveIntegerField(default=0)  # the composer's optimistic check reads this
    first_response_at = models.DateTimeField(null=True, blank=True)  # of the current cycle
    last_reply_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "openid"], name="conversation_unique_fan")]
        indexes = [
            # The lists: state (+ assignee) ordered by the oldest waiting, and "window closing soon".
            models.Index(fields=["account", "state", "waiting_since", "id"], name="conv_state_waiting"),
            models.Index(
                fields=["account", "assigned_to", "state", "waiting_since", "id"], name="conv_assignee"
            ),
            models.Index(fields=["account", "state", "last_fan_message_at"], name="conv_window"),
        ]

    def __str__(self) -> str:
        return f"conversation with {self.openid} ({self.state})"

    @property
    def unread(self) -> int:
        return max(self.messages - self.read_messages, 0)


class Note(models.Model):
    """An internal note on a conversation: seen by colleagues, never sent to the fan."""

    id = models.BigAutoField(primary_key=True)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["conversation", "created_at"], name="note_conversation")]

    def __str__(self) -> str:
        return f"note on {self.conversation_id}"


class CannedReply(models.Model):
    """A reply text shared by an account's agents; typing "/<shortcut>" in the composer inserts it."""

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="canned_replies")
    shortcut = models.CharField(max_length=32)
    title = models.CharField(max_length=80)
    text = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "shortcut"], name="canned_unique_shortcut")]
        ordering = ["shortcut"]

    def __str__(self) -> str:
        return f"/{self.shortcut}"


class AgentStatus(models.Model):
    """Whether a staff member takes new conversations on an account (round robin), and when they last
    got one."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    available = models.BooleanField(default=False)
    last_assigned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "user"], name="agentstatus_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} available={self.available}"


class InboxSettings(models.Model):
    """The account's response commitment and assignment rules; defaults apply while no row exists."""

    account = models.OneToOneField(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    first_response_minutes = models.PositiveIntegerField(default=120)  # in service hours
    promise_hours = models.PositiveIntegerField(default=48)  # wall-clock: what the fan is promised
    max_open_per_agent = models.PositiveIntegerField(default=10)
    auto_assign = models.BooleanField(default=True)

    def __str__(self) -> str:
        return f"inbox settings of {self.account_id}"


class Measure(models.Model):
    """One measured interval of the response commitment, written when it ends (append-only).

    first_response: from the first unanswered fan message of a cycle to the first reply;
    resolution: from the cycle's opening to its resolution. `service_seconds` counts service hours only.
    """

    class Kind(models.TextChoices):
        FIRST_RESPONSE = "first_response"
        RESOLUTION = "resolution"

    id = models.BigAutoField(primary_key=True)
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, null=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    wall_seconds = models.FloatField()
    service_seconds = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["account", "kind", "ended_at"], name="measure_account")]

    def __str__(self) -> str:
        return f"{self.kind} {self.wall_seconds:.0f}s"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """A new measure joins its day's MeasureDay, and its conversation has a MeasureChannel row, in the
        same transaction; bulk inserts bypass this and must call measure_days.rebuild for the account
        afterwards."""
        from liucun.inbox import measure_days

        adding = self._state.adding
        with transaction.atomic():
            super().save(*args, **kwargs)
            if adding:
                measure_days.add(self)


class MeasureDay(models.Model):
    """Every measure of one kind counted on one day, as sorted arrays: what the service report ranks.

    A first response counts on the day the fan asked (its start), a resolution on the day it happened
    (its end), in the site's time zone, named in `zone` so that a changed LIUCUN_TIME_ZONE is noticed.
    `service` and `wall` hold the measures' service_seconds and wall_seconds, each sorted, as float64
    (liucun.inbox.measure_days): percentiles over any days are then a merge of a few sorted runs instead
    of a sort of a year of measures per view. `service_conversations` and `wall_conversations` name each
    value's conversation (int64, 0 for a measure without one) in the order of `service` and `wall`: a
    report of one channel keeps the values of that channel's conversations, still sorted (ties ordered by
    conversation id, so a rebuild gives the same bytes as the measures written one by one). Kept by
    Measure.save; rebuilt from the measures by measure_days.rebuild.
    """

    id = models.BigAutoField(primary_key=True)
    # The unique (account, kind, day) index serves the account alone too.
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=16, choices=Measure.Kind.choices)
    day = models.DateField()
    zone = models.CharField(max_length=64)
    count = models.PositiveIntegerField(default=0)
    service = models.BinaryField(default=b"")
    wall = models.BinaryField(default=b"")
    service_conversations = models.BinaryField(default=b"")
    wall_conversations = models.BinaryField(default=b"")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "kind", "day"], name="measureday_unique")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.day}: {self.count}"


class MeasureChannel(models.Model):
    """The acquisition channel of the fan of a conversation that has measures, as the fan-activity read
    model had it when activity.service_channels last looked (None: not looked up yet).

    Why it exists: a report of one channel needs the channel of every conversation it counts, and looking
    up a year's 120,000 conversations in the fan-activity cursors costs 0.1-0.45 s a view (bench/service).
    Measure.save adds the row of a conversation's first measure (channel None) in its own transaction, so
    every conversation with a measure has one; the worker fills in channels and follows the fans whose
    channel changed since (activity.service_channels.sync), and a report corrects what changed after that.
    """

    conversation = models.OneToOneField(
        Conversation, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+", db_index=False)
    # NULL, unlike "" (no QR code): not looked up yet.
    channel = models.CharField(max_length=128, null=True, blank=True)  # noqa: DJ001

    class Meta:
        # A channel's conversations from the index alone; the account's unresolved ones (channel NULL) too.
        indexes = [
            models.Index(fields=["account", "channel", "conversation"], name="measurechannel_by_channel")
        ]

    def __str__(self) -> str:
        return f"{self.conversation_id}: {self.channel!r}"


class MeasureChannelSync(models.Model):
    """Up to where an account's MeasureChannel rows follow the fan-activity read model: every row with a
    channel holds its fan's channel as of event `upto`, read from the read model as `read_model` names it
    (its fingerprint and when it was last rebuilt: another value means its cursors were made again)."""

    account = models.OneToOneField(
        OfficialAccount, primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    read_model = models.CharField(max_length=255)
    upto = models.BigIntegerField(default=0)
    synced_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"channels of {self.account_id} up to event {self.upto}"
