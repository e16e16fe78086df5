"""Replay protection for plaintext-mode callbacks: a fresh timestamp, and one body per signed URL.

See inbound.models.PlaintextNonce for why. WeChat's retries of a delivery repeat the URL and the body
exactly, so they pass; a signed URL reused with another body, or a timestamp outside the accepted skew,
is refused. Runs only for deliveries that arrive in plaintext, never on the safe-mode path.
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from liucun.inbound.models import PlaintextNonce
from liucun.sqlite_writelock import serialized_writes


class Replayed(Exception):
    """The delivery's signed URL is stale, or was used before with another body."""


def check_plaintext(
    account_id: int, timestamp: str, nonce: str, body: bytes, *, now: float | None = None
) -> None:
    skew = settings.LIUCUN_CALLBACK_MAX_SKEW_SECONDS
    if skew == 0:
        return
    try:
        stamp = int(timestamp)
    except ValueError:
        raise Replayed("the timestamp is not a number") from None
    now = time.time() if now is None else now
    if abs(now - stamp) > skew:
        raise Replayed(f"the timestamp is more than {skew} s away from this server's clock")
    digest = hashlib.sha256(body).hexdigest()
    try:
        with serialized_writes(), transaction.atomic():
            PlaintextNonce.objects.create(
                account_id=account_id, timestamp=stamp, nonce=nonce[:64], body_sha256=digest
            )
    except IntegrityError:
        first = (
            PlaintextNonce.objects.filter(account_id=account_id, timestamp=stamp, nonce=nonce[:64])
            .values_list("body_sha256", flat=True)
            .first()
        )
        if first != digest:
            raise Replayed("this signed URL was already used with another body") from None


def forget_expired() -> int:
    """Drop nonces whose timestamps can no longer be accepted (for the worker's schedule)."""
    keep = timedelta(seconds=2 * max(settings.LIUCUN_CALLBACK_MAX_SKEW_SECONDS, 60))
    deleted, _ = PlaintextNonce.objects.filter(created_at__lt=datetime.now(UTC) - keep).delete()
    return deleted
