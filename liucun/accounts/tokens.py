"""One access token per account, shared by every process through the AccessToken row.

Refreshing is a lease, claimed with a conditional UPDATE: the process whose UPDATE matched fetches from
WeChat, the others wait until the row's generation moves on. No transaction stays open over the HTTP
call. A process that dies mid-refresh loses its lease after LEASE_SECONDS and another one takes over.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db.models import F, Q

from liucun.accounts.models import AccessToken
from liucun.wechat.apierrors import TokenError
from liucun.wechat.client import FetchedToken

log = logging.getLogger(__name__)

LEASE_SECONDS = 30
# Refresh a little before WeChat's expiry so a call never leaves with a token about to die.
EXPIRY_MARGIN = timedelta(seconds=300)
WAIT_SECONDS = 20.0

_WORKER = f"{socket.gethostname()}:{os.getpid()}"


def _now() -> datetime:
    return datetime.now(UTC)


class SharedTokenStore:
    def __init__(
        self,
        account_id: int,
        fetch: Callable[..., FetchedToken],
        *,
        now: Callable[[], datetime] = _now,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account_id = account_id
        self._fetch = fetch
        self._now = now
        self._sleep = sleep
        self._local = threading.local()

    def get(self) -> str:
        row = self._row()
        if row.token and row.expires_at is not None and row.expires_at - EXPIRY_MARGIN > self._now():
            self._local.generation = row.generation
            self._local.token = row.token
            return row.token
        return self._refresh(row.generation, rejected=None)

    def invalidate(self, token: str) -> None:
        """WeChat refused `token`: expire it, unless another process already replaced it."""
        generation = self._generation_of(token)
        if generation is None:
            return
        AccessToken.objects.filter(account_id=self.account_id, generation=generation).update(
            expires_at=self._now() - timedelta(seconds=1)
        )
        self._local.rejected = token

    def _generation_of(self, token: str) -> int | None:
        if getattr(self._local, "token", None) == token:
            return int(self._local.generation)
        row = self._row()
        return row.generation if row.token == token else None

    def _row(self) -> AccessToken:
        row, _ = AccessToken.objects.get_or_create(account_id=self.account_id)
        return row

    def _refresh(self, seen_generation: int, rejected: str | None) -> str:
        rejected = rejected or getattr(self._local, "rejected", None)
        owner = f"{_WORKER}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + WAIT_SECONDS
        delay = 0.02
        while True:
            now = self._now()
            claimed = (
                AccessToken.objects.filter(account_id=self.account_id, generation=seen_generation)
                .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
                .update(lease_owner=owner, lease_until=now + timedelta(seconds=LEASE_SECONDS))
            )
            if claimed:
                return self._fetch_and_store(owner, rejected)
            row = self._row()
            if row.generation != seen_generation and row.token and row.expires_at and row.expires_at > now:
                return row.token
            if time.monotonic() > deadline:
                raise TokenError("token", None, "timed out waiting for another process to refresh the token")
            self._sleep(delay)
            delay = min(0.25, delay * 2)

    def _fetch_and_store(self, owner: str, rejected: str | None) -> str:
        try:
            fetched = self._fetch(rejected=rejected)
        except Exception as exc:
            AccessToken.objects.filter(account_id=self.account_id, lease_owner=owner).update(
                lease_owner="", lease_until=None, last_error=str(exc)[:200]
            )
            raise
        now = self._now()
        row = AccessToken.objects.get(account_id=self.account_id)
        if row.lease_owner != owner:
            raise TokenError("token", None, "the refresh lease expired before WeChat answered")
        row.token = fetched.token
        row.expires_at = now + timedelta(seconds=fetched.expires_in)
        row.fetched_at = now
        row.generation = F("generation") + 1
        row.fetch_count = F("fetch_count") + 1
        row.lease_owner = ""
        row.lease_until = None
        row.last_error = ""
        row.save(
            update_fields=[
                "token",
                "expires_at",
                "fetched_at",
                "generation",
                "fetch_count",
                "lease_owner",
                "lease_until",
                "last_error",
            ]
        )
        self._local.rejected = None
        log.info("fetched a new access token for account %s", self.account_id)
        return fetched.token
