"""A per-process, short-lived cache of what the callback needs to know about an account.

The callback runs at thousands of requests a second; reading and decrypting the account's credentials
from the database on each request would cost more than the rest of the work. Changes made through
liucun.accounts.actions reach every process within CACHE_SECONDS.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from liucun.accounts.capabilities import Capabilities
from liucun.accounts.models import EncryptionMode, OfficialAccount
from liucun.wechat.crypto import MessageCrypto

CACHE_SECONDS = 5.0
# Entries kept per process. Anyone can name an appid in the URL, so unknown ones must not grow the cache
# without bound; a few thousand real accounts fit, and the least recently used entry goes first.
MAX_ENTRIES = 4096
# What accounts.models.appid_validator lets in: anything else names no account and is never looked up.
_APPID = re.compile(r"wx[0-9a-f]{16}")


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


_cache: OrderedDict[str, tuple[float, CallbackAccount | None]] = OrderedDict()
_lock = threading.Lock()


def get_callback_account(appid: str) -> CallbackAccount | None:
    if not _APPID.fullmatch(appid):
        return None
    now = time.monotonic()
    hit = _cache.get(appid)
    if hit is not None and hit[0] > now:
        return hit[1]
    account = _load(appid)
    with _lock:
        _cache[appid] = (now + CACHE_SECONDS, account)
        _cache.move_to_end(appid)
        while len(_cache) > MAX_ENTRIES:
            _cache.popitem(last=False)
    return account


def cached_entries() -> int:
    return len(_cache)


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
