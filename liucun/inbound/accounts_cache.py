"""A per-process, short-lived cache of what the callback needs to know about an account.

The callback runs at thousands of requests a second; reading and decrypting the account's credentials
from the database on each request would cost more than the rest of the work. Changes made through
liucun.accounts.actions reach every process within CACHE_SECONDS.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from liucun.accounts.capabilities import Capabilities
from liucun.accounts.models import EncryptionMode, OfficialAccount
from liucun.wechat.crypto import MessageCrypto

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class CallbackAccount:
    id: int
    appid: str
    original_id: str
    token: str
    encryption_mode: str
    welcome_text: str
    capabilities: Capabilities
    crypto: MessageCrypto | None

    @property
    def accepts_plaintext(self) -> bool:
        return self.encryption_mode in (EncryptionMode.PLAINTEXT, EncryptionMode.COMPATIBLE)

    @property
    def accepts_encrypted(self) -> bool:
        return self.crypto is not None and self.encryption_mode != EncryptionMode.PLAINTEXT


_cache: dict[str, tuple[float, CallbackAccount | None]] = {}
_lock = threading.Lock()


def get_callback_account(appid: str) -> CallbackAccount | None:
    now = time.monotonic()
    hit = _cache.get(appid)
    if hit is not None and hit[0] > now:
        return hit[1]
    account = _load(appid)
    with _lock:
        _cache[appid] = (now + CACHE_SECONDS, account)
    return account


def forget(appid: str | None = None) -> None:
    with _lock:
        if appid is None:
            _cache.clear()
        else:
            _cache.pop(appid, None)


def _load(appid: str) -> CallbackAccount | None:
    row = OfficialAccount.objects.filter(appid=appid, is_active=True).first()
    if row is None:
        return None
    crypto = MessageCrypto(row.token, row.encoding_aes_key, row.appid) if row.encoding_aes_key else None
    return CallbackAccount(
        id=row.pk,
        appid=row.appid,
        original_id=row.original_id,
        token=row.token,
        encryption_mode=row.encryption_mode,
        welcome_text=row.welcome_text,
        capabilities=row.capabilities,
        crypto=crypto,
    )
