"""Personal data of fans: export on request, erasure on request and after unfollow (docs/privacy.md).

Erased: remark (here, and in WeChat by a job), custom attributes (customer id, phone, store ...), unionid, and
every payload field of the fan's events that is not protocol metadata: message content, pictures,
locations, links, scanned codes, the URLs of menu links (they can carry a phone number in the query),
QR tickets, fields WeChat may add later, and the text of replies. Kept, pseudonymous: the openid (an id
WeChat issues per account), follow and unfollow times, the acquisition channel, event kinds and times,
menu keys, whether Liucun answered. That record is what retention statistics need, and nothing more.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q, QuerySet

from liucun.accounts.models import OfficialAccount, PrivacyOnUnfollow
from liucun.events.models import Event
from liucun.fans import privacy_hooks
from liucun.fans.models import Fan, FollowPeriod
from liucun.staff.audit import record

log = logging.getLogger(__name__)

# Payload fields that are protocol metadata and say nothing about the person: kept by an erasure. Every
# other field is erased, including ones WeChat adds later (an allow-list, not a list of what to remove).
PROTOCOL_FIELDS = frozenset(
    {
        "ToUserName", "FromUserName", "CreateTime", "MsgType", "MsgId", "MsgDataId", "Idx", "Event",
        "MenuId", "Format",
        # Subscription-notification consent: which template, accepted or not (what analysis of consent needs).
        "SubscribeMsgPopupEvent", "SubscribeMsgChangeEvent", "SubscribeMsgSentEvent", "PopupScene",
    }
)  # fmt: skip
# EventKey is a menu key or a QR scene (the channel) for these; for menu links it is the URL the fan
# opened and for mini-program buttons the page path, both of which can carry personal data.
EVENT_KEY_IS_METADATA = frozenset(
    {
        "event.subscribe", "event.scan", "event.click", "event.scancode_push", "event.scancode_waitmsg",
        "event.pic_sysphoto", "event.pic_photo_or_album", "event.pic_weixin", "event.location_select",
    }
)  # fmt: skip
REDACTED = "(erased)"


def export_fan(account: OfficialAccount, openid: str, actor: Any) -> dict[str, Any]:
    """Everything Liucun holds about one fan, as JSON-ready data. Audited."""
    fan = Fan.objects.get(account=account, openid=openid)
    data = {
        "account": {"appid": account.appid, "name": account.name},
        "fan": {
            f.name: _plain(getattr(fan, f.name))
            for f in Fan._meta.concrete_fields
            if f.name not in ("id", "account")
        },
        "follow_periods": [
            {k: _plain(v) for k, v in p.items()}
            for p in FollowPeriod.objects.filter(fan=fan)
            .order_by("id")
            .values("followed_at", "unfollowed_at", "channel", "follow_source", "unfollow_source")
        ],
        "events": [
            {k: _plain(v) for k, v in e.items()}
            for e in Event.objects.filter(account=account, openid=openid)
            .order_by("wechat_time", "id")
            .values("kind", "wechat_time", "received_at", "source", "payload")
        ],
        **privacy_hooks.exported(account.pk, openid),  # what other apps keep of the fan
        "exported_at": datetime.now(UTC).isoformat(),
    }
    record(actor, "fans.export_personal_data", account=account, target=openid)
    return data


def erase_fan(
    account: OfficialAccount, openid: str, actor: Any, reason: str, *, checkpoint: bool = True
) -> bool:
    """Erase one fan's personal data; keep the pseudonymous lifecycle. Audited. True if anything changed."""
    erased = _erase(account, openid, actor, reason)
    if erased and checkpoint:
        checkpoint_erased_pages()
    return erased


def checkpoint_erased_pages() -> None:
    """SQLite: copy the write-ahead log into the database and empty it, so the erased values (still in
    the log's older frames until then) are gone from the disk, not just from the tables."""
    if connection.vendor == "sqlite":
        # After the outermost commit: a checkpoint cannot run inside a write transaction.
        transaction.on_commit(_checkpoint)


def _checkpoint() -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = cursor.fetchone()[0]
    except DatabaseError as exc:
        busy = str(exc)
    if busy:
        # A reader still holds old frames; the next erasure (or SQLite's own checkpoints) finishes it.
        log.info("checkpoint after an erasure was partial (%s); it completes at the next one", busy)


@transaction.atomic
def _erase(account: OfficialAccount, openid: str, actor: Any, reason: str) -> bool:
    fan = Fan.objects.select_for_update().filter(account=account, openid=openid).first()
    if fan is None:
        return False
    if fan.remark and account.capabilities.user_management:
        from liucun.fans.tasks import clear_remark_in_wechat  # the sync machinery, only when needed

        # WeChat holds the remark too; cleared by a job after this commits (a slow WeChat must not
        # hold the transaction), and only if the erasure commits.
        transaction.on_commit(lambda: clear_remark_in_wechat.enqueue(account.pk, openid))
    fan.remark, fan.attributes, fan.unionid = "", {}, ""
    fan.personal_data_erased_at = datetime.now(UTC)
    fan.save(update_fields=["remark", "attributes", "unionid", "personal_data_erased_at", "updated_at"])
    redacted = _redact_events(account.pk, openid)
    privacy_hooks.erased(account.pk, openid)  # what other apps keep of the fan (outbound messages)
    record(
        actor,
        "fans.erase_personal_data",
        account=account,
        target=openid,
        changes={"reason": reason, "events_redacted": redacted},
    )
    return True


def _redact_events(account_id: int, openid: str) -> int:
    """The one rewrite the append-only event store allows: every field but protocol metadata replaced,
    kinds and times kept; a reply's text erased but not the fact that there was one."""
    count = 0
    for event_id, kind, payload, reply in Event.objects.filter(
        account_id=account_id, openid=openid
    ).values_list("id", "kind", "payload", "reply"):
        cleaned = redacted_payload(kind, payload)
        erased_reply = REDACTED if reply else ""
        if cleaned == payload and erased_reply == reply:
            continue
        with connection.cursor() as cursor:
            # Through SQL on purpose: the Event model refuses updates, and this is the single exception.
            cursor.execute(
                "UPDATE events_event SET payload = %s, reply = %s WHERE id = %s",
                [connection.ops.adapt_json_value(cleaned, None), erased_reply, event_id],
            )
        count += 1
    return count


def redacted_payload(kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    def kept(name: str) -> bool:
        return name in PROTOCOL_FIELDS or (name == "EventKey" and kind in EVENT_KEY_IS_METADATA)

    return {name: (value if kept(name) else REDACTED) for name, value in payload.items()}


def erasure_due() -> QuerySet[Fan]:
    """Fans who left an account that erases on unfollow, and whose data was not erased since."""
    return Fan.objects.filter(
        account__privacy_on_unfollow=PrivacyOnUnfollow.ERASE, is_following=False, unfollowed_at__isnull=False
    ).filter(Q(personal_data_erased_at__isnull=True) | Q(personal_data_erased_at__lt=F("unfollowed_at")))


def erase_after_unfollow(limit: int = 1000) -> int:
    """Apply the unfollow policy to fans who left since their data was last erased. Returns how many."""
    done = 0
    for fan in erasure_due().select_related("account").order_by("unfollowed_at")[:limit]:
        done += erase_fan(fan.account, fan.openid, "privacy-policy", "unfollowed", checkpoint=False)
    if done:
        checkpoint_erased_pages()
    return done


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
