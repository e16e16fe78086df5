""" "Try it": what the callback would answer, computed by the callback's own code.

The matcher comes from the same process cache, the fan's facts from the same SQL, service hours from the
same function; only the message is made up. So the try-it box and a real fan cannot disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import connection

from liucun.accounts.models import OfficialAccount
from liucun.autoreply.cache import matchers
from liucun.autoreply.decision import Decision, decide
from liucun.autoreply.fanfacts import read_channel_label, read_fan, read_version
from liucun.autoreply.matcher import Probe
from liucun.rawsql import Sql
from liucun.servicehours.hours import is_open

KINDS = ("text", "image", "voice", "video", "shortvideo", "location", "link", "follow", "scan", "click")
_EVENT_KINDS = {"follow": "event.subscribe", "scan": "event.scan", "click": "event.click"}


def probe_for(kind: str, *, text: str = "", scene: str = "", key: str = "") -> Probe:
    """The probe a message or event of `kind` with this text, QR scene or menu key makes."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    if kind == "text":
        return Probe("text", text=text)
    if kind in ("follow", "scan"):
        return Probe(_EVENT_KINDS[kind], scene=scene.strip() or None)
    if kind == "click":
        return Probe("event.click", key=key.strip())
    return Probe(kind)


def try_message(
    account: OfficialAccount, probe: Probe, openid: str = "", now: datetime | None = None
) -> Decision:
    at = now or datetime.now(UTC)
    sql = Sql(connection)
    cursor = sql.cursor()
    try:
        matcher = matchers.get(account.pk, lambda account_id: read_version(cursor, sql, account_id))
        return decide(
            matcher,
            probe,
            now=at,
            load_fan=lambda with_tags: read_fan(cursor, sql, account.pk, openid.strip(), with_tags),
            is_open=lambda: is_open(account.pk, at),
            welcome_text=account.welcome_text,
            label_of=lambda scene: read_channel_label(cursor, sql, account.pk, scene),
        )
    finally:
        cursor.close()
