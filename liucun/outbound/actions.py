"""Sending customer-service messages to fans: queue with an idempotency key, deliver at most once.

WeChat's message/custom/send has no idempotency key, so delivery is at most once (docs/adr/0019): a row
is claimed (queued -> sending) with a conditional UPDATE that commits before WeChat is called. A failure
known not to have reached WeChat (no connection, busy, token refused) puts the row back in the queue; an
answer that may have been lost (timeout, 5xx, a worker killed mid-call) leaves the row "unknown" for the
operator, who can send it again under a new key.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils.translation import gettext as _

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.fans.models import Fan
from liucun.jobs.models import stalled_after
from liucun.outbound import content as bodies
from liucun.outbound.models import OutboundMessage, Source, Status
from liucun.outbound.refusals import KeyRequired, KeyReused, NotResendable, WindowClosed
from liucun.outbound.window import alternatives, window_of
from liucun.staff.audit import record
from liucun.wechat.api import customer_service
from liucun.wechat.apierrors import RetryableError, TokenError, WeChatAPIError
from liucun.wechat_refusals import reason

log = logging.getLogger(__name__)

KEY_MAX_CHARS = 100
MAX_ATTEMPTS = 5
# A queued row whose task has not run for this long: the task was lost (or the queue is that far behind).
LOST_AFTER = timedelta(minutes=5)
# WeChat answered but did not deliver: busy, or too many calls this minute.
NOT_DELIVERED_ERRCODES = frozenset({-1, 45011})
# A connection that never opened: the request did not reach WeChat.
NOT_CONNECTED = ("connection failed: ConnectError",)
REFUSED_ERRCODES = frozenset({45015, 45047, 48002, 43004})


def _now() -> datetime:
    return datetime.now(UTC)


def queue_message(
    *,
    account_id: int,
    openid: str,
    content: dict[str, Any],
    key: str,
    source: str,
    staff_id: int | None = None,
    rule_id: int | None = None,
    conversation_id: int | None = None,
) -> OutboundMessage:
    """Queue one message to a fan; delivery is enqueued when the caller's transaction commits.

    Idempotent by (account, key): a second call with the same key returns the first row, sends nothing.
    The content is refused (ContentRefused, naming the field) when it breaks WeChat's limits. An agent's
    send (source "agent") is refused (WindowClosed) when the fan's window does not allow it; a rule's or
    the system's is queued in the callback's own transaction, before the fan's action is recorded, so
    its window is checked when it is sent.
    """
    key = (key or "").strip()
    if not key or len(key) > KEY_MAX_CHARS:
        raise KeyRequired(
            _("An idempotency key of 1 to %(max)s characters is required, so a retry cannot send twice."),
            {"max": KEY_MAX_CHARS},
        )
    if source not in Source.values:
        raise ValueError(f"unknown outbound source {source!r}")
    existing = OutboundMessage.objects.filter(account_id=account_id, idempotency_key=key).first()
    if existing is not None:
        return _same_fan(existing, openid)
    body = bodies.normalized(bodies.parse(content))
    fan = (
        Fan.objects.filter(account_id=account_id, openid=openid)
        .only("id", "is_following", "follow_state_at", "last_message_at", "last_event_at")
        .first()
    )
    if source == Source.AGENT:
        window = window_of(fan, account_id, openid, _now())
        if not window.open:
            raise WindowClosed(window.reason)
    try:
        with transaction.atomic():
            message = OutboundMessage.objects.create(
                account_id=account_id,
                openid=openid,
                fan=fan,
                kind=body["msgtype"],
                content=body,
                source=source,
                rule_id=rule_id,
                staff_id=staff_id,
                conversation_id=conversation_id,
                idempotency_key=key,
                enqueued_at=_now(),
            )
            if staff_id is not None:
                _audit(message, staff_id)
    except IntegrityError:
        # Another request with the same key won the race (a double click, two agents, a retry).
        return _same_fan(OutboundMessage.objects.get(account_id=account_id, idempotency_key=key), openid)
    _enqueue_on_commit(message.pk)
    return message


def _same_fan(existing: OutboundMessage, openid: str) -> OutboundMessage:
    if existing.openid != openid:
        # A client reusing keys across fans would otherwise be told another fan's message was "sent".
        raise KeyReused(_("This idempotency key was used for a message to another fan; make a new key."))
    return existing


def send_again(message_id: int, *, key: str, staff_id: int | None = None) -> OutboundMessage:
    """A new send of an unknown, failed or refused message's content, under a new key (the operator's call:
    an unknown one may have reached the fan already)."""
    old = OutboundMessage.objects.get(pk=message_id)
    if old.status not in (Status.UNKNOWN, Status.FAILED, Status.REFUSED) or old.content_erased_at:
        raise NotResendable(
            _("Only an unknown, failed or refused message whose content is kept can be sent again.")
        )
    return queue_message(
        account_id=old.account_id,
        openid=old.openid,
        content=old.content,
        key=key,
        source=Source.AGENT if staff_id is not None else old.source,
        staff_id=staff_id,
        rule_id=old.rule_id,
        conversation_id=old.conversation_id,
    )


def send_now(message_id: int) -> OutboundMessage:
    """Deliver a queued message: claim it, check the window, call WeChat once, record the answer.

    Returns the row as it stands; a row not queued (sent, being sent by another worker, final) is left
    alone. Must run outside a transaction, so the claim is committed before WeChat is called.
    """
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("send_now must run outside a transaction (the claim must commit before the call)")
    now = _now()
    claimed = OutboundMessage.objects.filter(pk=message_id, status=Status.QUEUED).update(
        status=Status.SENDING, attempted_at=now, attempt=F("attempt") + 1
    )
    message = OutboundMessage.objects.select_related("account").get(pk=message_id)
    if not claimed:
        return message
    fan = (
        Fan.objects.filter(account_id=message.account_id, openid=message.openid)
        .only("is_following", "follow_state_at", "last_message_at", "last_event_at")
        .first()
    )
    window = window_of(fan, message.account_id, message.openid, now, exclude_id=message.pk)
    if not window.open:
        return _finish(message, Status.REFUSED, error=str(window.reason))
    try:
        _call_wechat(message.account, message.openid, message.content)
    except WeChatAPIError as exc:
        return _failed(message, exc)
    except BaseException:
        # Whatever happened, the call may have been made: never resend by ourselves.
        _finish(message, Status.UNKNOWN, error=_unknown_sentence())
        raise
    return _finish(message, Status.SENT, sent_at=_now())


def _call_wechat(account: OfficialAccount, openid: str, body: dict[str, Any]) -> None:
    client = client_for(account)
    # The client's own retries would resend after an answer that may have been lost; this module
    # decides what is safe to retry.
    client.max_retries = 0
    with client:
        customer_service.send(client, openid, bodies.parse(body))


def _failed(message: OutboundMessage, exc: WeChatAPIError) -> OutboundMessage:
    if _not_delivered(exc):
        if message.attempt < MAX_ATTEMPTS:
            return _release(message, exc)
        return _finish(message, Status.FAILED, errcode=exc.errcode, error=_sentence(exc))
    if isinstance(exc, RetryableError):
        # Timed out, 5xx, a broken connection after sending: WeChat may have delivered it.
        return _finish(message, Status.UNKNOWN, errcode=exc.errcode, error=_unknown_sentence())
    if exc.errcode in REFUSED_ERRCODES:
        return _finish(message, Status.REFUSED, errcode=exc.errcode, error=_window_sentence(exc))
    return _finish(message, Status.FAILED, errcode=exc.errcode, error=_sentence(exc))


def _not_delivered(exc: WeChatAPIError) -> bool:
    if isinstance(exc, TokenError):
        return True  # refused before the send was looked at
    if exc.errcode in NOT_DELIVERED_ERRCODES:
        return True
    return exc.errcode is None and exc.errmsg.startswith(NOT_CONNECTED)


def _release(message: OutboundMessage, exc: WeChatAPIError) -> OutboundMessage:
    """Back to the queue for another attempt, later (1, 2, 4, 8 minutes)."""
    delay = timedelta(minutes=2 ** (message.attempt - 1))
    released = OutboundMessage.objects.filter(
        pk=message.pk,
        status=Status.SENDING,
        attempt=message.attempt,
        # enqueued_at is when the task is due, so the lost-task pass does not cut the wait short.
    ).update(status=Status.QUEUED, errcode=exc.errcode, error=_sentence(exc), enqueued_at=_now() + delay)
    if released:
        from liucun.outbound.tasks import deliver

        deliver.using(run_after=_now() + delay).enqueue(message.pk)
    message.refresh_from_db()
    return message


def _finish(message: OutboundMessage, status: str, **fields: Any) -> OutboundMessage:
    """Record the outcome, only while the row is still this attempt's send (the stalled pass may have
    given up on it meanwhile: then its "unknown" stays, the operator decides)."""
    OutboundMessage.objects.filter(pk=message.pk, status=Status.SENDING, attempt=message.attempt).update(
        status=status, **fields
    )
    message.refresh_from_db()
    return message


def mark_stalled(now: datetime | None = None) -> int:
    """Sends claimed longer ago than the jobs' stalled threshold (LIUCUN_JOB_STALLED_AFTER_SECONDS) with no
    outcome: their worker died, perhaps after WeChat took it. Unknown, never resent."""
    cutoff = (now or _now()) - stalled_after()
    return OutboundMessage.objects.filter(status=Status.SENDING, attempted_at__lt=cutoff).update(
        status=Status.UNKNOWN, error=_unknown_sentence()
    )


def requeue_lost(now: datetime | None = None, limit: int = 1000) -> int:
    """Queued rows whose delivery task has not run for LOST_AFTER: enqueue another (a duplicate task finds
    the row claimed and does nothing)."""
    now = now or _now()
    cutoff = now - LOST_AFTER
    ids = list(
        OutboundMessage.objects.filter(status=Status.QUEUED)
        .filter(Q(enqueued_at__lt=cutoff) | Q(enqueued_at__isnull=True))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
    if not ids:
        return 0
    from liucun.outbound.tasks import deliver

    with transaction.atomic():
        OutboundMessage.objects.filter(pk__in=ids, status=Status.QUEUED).update(enqueued_at=now)
        for message_id in ids:
            deliver.enqueue(message_id)
    return len(ids)


def _enqueue_on_commit(message_id: int) -> None:
    from liucun.outbound.tasks import deliver

    transaction.on_commit(lambda: deliver.enqueue(message_id))


def _audit(message: OutboundMessage, staff_id: int) -> None:
    staff = get_user_model().objects.get(pk=staff_id)
    record(
        staff,
        "outbound.send",
        account=OfficialAccount.objects.get(pk=message.account_id),
        target=message.openid,
        changes={"message": message.pk, "kind": message.kind, "key": message.idempotency_key},
    )


def _sentence(exc: WeChatAPIError) -> str:
    return _("WeChat refused: %(reason)s.") % {"reason": reason(exc)}


def _window_sentence(exc: WeChatAPIError) -> str:
    if exc.errcode == 45015:
        why = _(
            "The fan's 48-hour window is closed: WeChat accepts a customer-service message only after "
            "the fan's next message."
        )
    elif exc.errcode == 45047:
        why = _(
            "The fan has received all the messages WeChat allows since their last action; the fan's next "
            "message opens a new window."
        )
    elif exc.errcode == 48002:
        why = _("The fan has turned off messages from the account.")
    else:
        why = _("The fan no longer follows the account; WeChat delivers nothing to them.")
    return f"{why} {alternatives()}"


def _unknown_sentence() -> str:
    return _(
        "WeChat's answer was lost (timeout, server error or a stopped worker): the message may or may not "
        "have reached the fan. Liucun does not send it again by itself; check with the fan, then send "
        "again if needed."
    )


def deliver_now(message: OutboundMessage) -> OutboundMessage:
    """For a person waiting on the answer (the console, the API): send now and return the outcome. Inside
    a transaction the send waits for the commit (the claim must commit before WeChat is called), and the
    delivery task enqueued with the row sends it anyway; this is a shortcut, not the only way out."""
    if message.status != Status.QUEUED:
        return message
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: send_now(message.pk), robust=True)
        return message
    return send_now(message.pk)
