"""Personal data of fans: export on request, erasure on request and after unfollow (docs/privacy.md).

Erased: remark, custom attributes (customer id, phone, store ...), unionid, and the content of every
message the fan sent (texts, pictures, locations, links). Kept, pseudonymous: the openid (an id WeChat
issues per account), follow and unfollow times, the acquisition channel, event kinds and times. That
record is what retention statistics and refollow detection need, and nothing more.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet

from liucun.accounts.models import OfficialAccount, PrivacyOnUnfollow
from liucun.events.models import Event
from liucun.fans.models import Fan, FollowPeriod
from liucun.staff.audit import record

# Payload fields that carry what a fan said or showed; everything else is protocol metadata.
PERSONAL_FIELDS = (
    "Content",
    "PicUrl",
    "MediaId",
    "Recognition",
    "Location_X",
    "Location_Y",
    "Label",
    "Title",
    "Description",
    "Url",
    "ThumbMediaId",
    "Latitude",
    "Longitude",
    "Precision",
    "ScanCodeInfo",
    "SendPicsInfo",
    "SendLocationInfo",
)
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
        "exported_at": datetime.now(UTC).isoformat(),
    }
    record(actor, "fans.export_personal_data", account=account, target=openid)
    return data


@transaction.atomic
def erase_fan(account: OfficialAccount, openid: str, actor: Any, reason: str) -> bool:
    """Erase one fan's personal data; keep the pseudonymous lifecycle. Audited. True if anything changed."""
    fan = Fan.objects.select_for_update().filter(account=account, openid=openid).first()
    if fan is None:
        return False
    fan.remark, fan.attributes, fan.unionid = "", {}, ""
    fan.personal_data_erased_at = datetime.now(UTC)
    fan.save(update_fields=["remark", "attributes", "unionid", "personal_data_erased_at", "updated_at"])
    redacted = _redact_events(account.pk, openid)
    record(
        actor,
        "fans.erase_personal_data",
        account=account,
        target=openid,
        changes={"reason": reason, "events_redacted": redacted},
    )
    return True


def _redact_events(account_id: int, openid: str) -> int:
    """The one rewrite the append-only event store allows: message content replaced, kinds and times kept."""
    count = 0
    for event_id, payload in Event.objects.filter(account_id=account_id, openid=openid).values_list(
        "id", "payload"
    ):
        if not any(name in payload and payload[name] != REDACTED for name in PERSONAL_FIELDS):
            continue
        cleaned = {k: (REDACTED if k in PERSONAL_FIELDS else v) for k, v in payload.items()}
        with connection.cursor() as cursor:
            # Through SQL on purpose: the Event model refuses updates, and this is the single exception.
            cursor.execute(
                "UPDATE events_event SET payload = %s, reply = '' WHERE id = %s",
                [connection.ops.adapt_json_value(cleaned, None), event_id],
            )
        count += 1
    return count


def erasure_due() -> QuerySet[Fan]:
    """Fans who left an account that erases on unfollow, and whose data was not erased since."""
    return Fan.objects.filter(
        account__privacy_on_unfollow=PrivacyOnUnfollow.ERASE, is_following=False, unfollowed_at__isnull=False
    ).filter(Q(personal_data_erased_at__isnull=True) | Q(personal_data_erased_at__lt=F("unfollowed_at")))


def erase_after_unfollow(limit: int = 1000) -> int:
    """Apply the unfollow policy to fans who left since their data was last erased. Returns how many."""
    done = 0
    for fan in erasure_due().select_related("account").order_by("unfollowed_at")[:limit]:
        done += erase_fan(fan.account, fan.openid, "privacy-policy", "unfollowed")
    return done


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value
