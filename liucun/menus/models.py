"""Custom menus: named drafts, the history of what was sent to WeChat, the last read-back, button names,
and the click statistics read model (rebuilt from the event store like every read model, ADR 15).

Buttons are stored in WeChat's own JSON shape (`[{"name", "type", "key"...} or {"name", "sub_button"}]`),
so what is shown, compared and re-published is exactly what WeChat was (or would be) sent.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount

DRAFT_NAME_MAX = 60
# A view button's EventKey is its URL (at most 1024 bytes, so at most 1024 characters).
BUTTON_KEY_MAX = 1024


class MenuDraft(models.Model):
    """A menu being prepared; an account keeps several, by name. Publishing copies it into history."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="menu_drafts")
    name = models.CharField(max_length=DRAFT_NAME_MAX)
    buttons = models.JSONField(default=list)
    created_by = models.CharField(max_length=150, blank=True, default="")
    updated_by = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="menudraft_unique_name")]

    def __str__(self) -> str:
        return self.name


class PublishKind(models.TextChoices):
    DEFAULT = "default", _("default menu")
    CONDITIONAL = "conditional", _("conditional menu")
    DELETE = "delete", _("all menus deleted")
    DELETE_CONDITIONAL = "delete_conditional", _("conditional menu deleted")


class PublishedMenu(models.Model):
    """One change sent to WeChat: what (the buttons, and the tag for a conditional menu), who, when, and
    WeChat's answer. Refused attempts are kept too (ok=False), so the history says what failed and why."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="published_menus")
    kind = models.CharField(max_length=20, choices=PublishKind.choices)
    buttons = models.JSONField(default=list)
    draft_name = models.CharField(max_length=DRAFT_NAME_MAX, blank=True, default="")
    # The rule of a conditional menu: WeChat's tag id, and the tag's name when it was published.
    tag_wechat_id = models.IntegerField(null=True, blank=True)
    tag_name = models.CharField(max_length=64, blank=True, default="")
    menu_id = models.CharField(max_length=32, blank=True, default="")  # WeChat's menuid (conditional)
    restored_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_by = models.CharField(max_length=150)
    published_at = models.DateTimeField(auto_now_add=True)
    ok = models.BooleanField()
    answer = models.CharField(max_length=500)  # "ok", or WeChat's errcode and message

    class Meta:
        indexes = [models.Index(fields=["account", "-id"], name="publishedmenu_recent")]

    def __str__(self) -> str:
        return f"{self.kind} by {self.published_by} at {self.published_at}"


class MenuReading(models.Model):
    """The last menu/get answer per account: what WeChat showed fans when it was read ("in WeChat now")."""

    account = models.OneToOneField(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    buttons = models.JSONField(default=list)  # the default menu; [] when WeChat has none
    conditional = models.JSONField(default=list)  # [{"menu_id", "tag_wechat_id", "platform", "buttons"}]
    read_by = models.CharField(max_length=150)
    read_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"menu read at {self.read_at}"


class ButtonName(models.Model):
    """What a button key (or a view button's URL) is called, so the console shows a click by its name.

    Names from published menus replace earlier ones; a draft only names keys nothing published named.
    """

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=BUTTON_KEY_MAX)
    name = models.CharField(max_length=60)
    published = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"], name="buttonname_unique_key")]

    def __str__(self) -> str:
        return f"{self.key} = {self.name}"


# A fan's acquisition channel (readmodels.acquisition): the QR scene of its first follow, "" without one.
# db_default too, so rows written by plain SQL that predates the channel (benchmarks) land in "".
CHANNEL_MAX = 128


def _channel() -> models.CharField:
    return models.CharField(max_length=CHANNEL_MAX, blank=True, default="", db_default="")


class MenuClickDay(models.Model):
    """Menu taps of one account on one day (the site's time zone) on one button (a CLICK's key or a VIEW's
    URL) by fans of one channel. `fans` is the number of distinct fans that day (the rows of MenuClickFan)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    button = models.CharField(max_length=BUTTON_KEY_MAX)
    channel = _channel()
    clicks = models.IntegerField(default=0)
    fans = models.IntegerField(default=0)

    class Meta:
        constraints = [
            # Channel last: every channel's rows of a range of days are one range of the index.
            models.UniqueConstraint(
                fields=["account", "day", "button", "channel"], name="menuclickday_unique_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.button}: {self.clicks} clicks, {self.fans} fans"


class MenuClickFan(models.Model):
    """That a fan tapped a button on a day: one row per (account, day, button, openid), so unique fans per
    day and over any period are exact counts, never estimates. `channel` is the fan's, on all its rows
    (a fan is in one channel, so it is no part of the key; the rows move when the channel does)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    button = models.CharField(max_length=BUTTON_KEY_MAX)
    openid = models.CharField(max_length=64)
    channel = _channel()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "button", "openid"], name="menuclickfan_unique"
            ),
        ]
        # A fan's taps, read back when it taps again: where its new day falls among its others. Covering
        # (button too): SQLite prefers a covering index to one it must look rows up through, and with
        # (account, openid, day) it walked all of the account's rows through the unique index instead
        # (0.62 s against 0.04 s for 500 fans at 200,000 fans).
        indexes = [models.Index(fields=["account", "openid", "day", "button"], name="menuclickfan_fan")]

    def __str__(self) -> str:
        return f"{self.day} {self.button} {self.openid}"


# The day a fan's first tap on a button is filed under as its previous one: before any range's start, so
# "previous tap before the range" needs no NULL case (and unique constraints hold: NULLs never collide).
NO_PREVIOUS_DAY = date(1, 1, 1)


class ClickScope(models.TextChoices):
    BUTTON = "b", "one button"
    ANY = "a", "any button"
    WEB = "w", "any web page"


class MenuClickGap(models.Model):
    """How many fans of a channel tapped a button on `day` whose previous tap on it was on `previous`
    (NO_PREVIOUS_DAY for their first); rows of scope ANY (any button) and WEB (any link button) have
    button "". The fans who tapped in a range [s, e] are exactly the rows of days s..e whose previous day
    is before s (each fan counts once: at its first tap in the range), so a report sums rows of days, not
    distinct fans over millions of MenuClickFan rows; every channel's rows together count each fan once."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=1, choices=ClickScope.choices)
    button = models.CharField(max_length=BUTTON_KEY_MAX)
    day = models.DateField()
    previous = models.DateField()
    channel = _channel()
    fans = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "previous", "scope", "button", "channel"],
                name="menuclickgap_unique_channel",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.button} after {self.previous}: {self.fans}"


class MenuClickLast(models.Model):
    """How many fans of a channel tapped a button (or any, any web page: scope) last on `day`: the fans who
    tapped on or after s are the rows from s on, which with MenuClickGap answers a range ending near the
    latest day cheaply (those fans minus the ones whose first tap after the range is their first since s)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=1, choices=ClickScope.choices)
    button = models.CharField(max_length=BUTTON_KEY_MAX)
    day = models.DateField()
    channel = _channel()
    fans = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "scope", "button", "channel"], name="menuclicklast_unique_channel"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.button} last on {self.day}: {self.fans}"


class MenuClickDayAll(models.Model):
    """MenuClickDay with the channel summed out: an account's taps of a day and button by every fan, read
    whenever no channel is chosen (menus/clicks.py says why a table of its own)."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    button = models.CharField(max_length=BUTTON_KEY_MAX)
    clicks = models.IntegerField(default=0)
    fans = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "button"], name="menuclickdayall_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.button}: {self.clicks} clicks, {self.fans} fans"


class MenuClickGapAll(models.Model):
    """MenuClickGap over every fan, whatever its channel: a fan's gaps between its taps (the rows version 2
    kept), so an all-channel range reads one row per day, previous day and button, not one per channel."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=1, choices=ClickScope.choices)
    button = models.CharField(max_length=BUTTON_KEY_MAX)
    day = models.DateField()
    previous = models.DateField()
    fans = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "previous", "scope", "button"], name="menuclickgapall_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.button} after {self.previous}: {self.fans}"


class MenuClickLastAll(models.Model):
    """MenuClickLast over every fan, whatever its channel."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=1, choices=ClickScope.choices)
    button = models.CharField(max_length=BUTTON_KEY_MAX)
    day = models.DateField()
    fans = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "scope", "button"], name="menuclicklastall_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.button} last on {self.day}: {self.fans}"


class MenuClickFollow(models.Model):
    """The menu-clicks consumer's cursor of a fan's channel: the fan's first follow event stored (WeChat
    time, id) and its channel, so that a tap is filed without a query and a follow later than the first
    changes nothing. Fans without a follow event have no row (their channel is "")."""

    account = models.ForeignKey(OfficialAccount, on_delete=models.CASCADE, related_name="+")
    openid = models.CharField(max_length=64)
    channel = _channel()
    first_follow_at = models.DateTimeField()
    first_follow_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "openid"], name="menuclickfollow_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.openid} in {self.channel!r}"
