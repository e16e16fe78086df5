"""Rows of every kind the outbound log holds, for tests that need a populated account (query counts)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan
from liucun.outbound.models import OutboundMessage, Source, Status


def populate(account: OfficialAccount, fans: Sequence[Fan]) -> list[OutboundMessage]:
    """Per fan: a sent agent reply (with its staff user), a rule follow-up, a refused and an unknown send."""
    staff, _ = get_user_model().objects.get_or_create(username=f"outbound-agent-{account.appid}")
    now = datetime.now(UTC)
    rows = []
    for i, fan in enumerate(fans):
        for j, (source, status) in enumerate(
            ((Source.AGENT, Status.SENT), (Source.RULE, Status.SENT), (Source.AGENT, Status.REFUSED),
             (Source.SYSTEM, Status.UNKNOWN))
        ):  # fmt: skip
            at = now - timedelta(minutes=10 * i + j)
            rows.append(
                OutboundMessage(
                    account=account,
                    openid=fan.openid,
                    fan=fan,
                    kind="text",
                    content={"msgtype": "text", "text": {"content": f"回复 {i}-{j}"}},
                    source=source,
                    rule_id=7 if source == Source.RULE else None,
                    staff=staff if source == Source.AGENT else None,
                    idempotency_key=f"populate:{fan.openid}:{j}",
                    status=status,
                    errcode=45015 if status == Status.REFUSED else None,
                    error="closed" if status == Status.REFUSED else "",
                    attempted_at=at,
                    sent_at=at if status == Status.SENT else None,
                    attempt=1,
                    enqueued_at=at,
                )
            )
    made = OutboundMessage.objects.bulk_create(rows)
    # created_at is set on insert; spread it like the attempts so lists have an order to show.
    for row in made:
        OutboundMessage.objects.filter(pk=row.pk).update(created_at=row.attempted_at)
    return made
