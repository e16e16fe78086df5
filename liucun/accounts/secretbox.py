"""Encryption of credentials at rest (app secrets, tokens, AES keys, access tokens).

Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`, with MultiFernet so that keys can be rotated:
the first key in LIUCUN_ENCRYPTION_KEYS encrypts, every listed key decrypts.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class SecretDecryptionError(Exception):
    """A stored secret cannot be decrypted with any configured key (wrong or rotated-out key)."""


@lru_cache(maxsize=4)
def _box(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(k.encode()) for k in keys])
    except (ValueError, TypeError):
        raise SecretDecryptionError(
            "LIUCUN_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)"
        ) from None


def _current() -> MultiFernet:
    return _box(tuple(settings.ENCRYPTION_KEYS))


def seal(plaintext: str) -> str:
    return _current().encrypt(plaintext.encode("utf-8")).decode("ascii")


def unseal(sealed: str) -> str:
    try:
        return _current().decrypt(sealed.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise SecretDecryptionError(
            "a stored secret cannot be decrypted with LIUCUN_ENCRYPTION_KEYS; was the key changed "
            "without keeping the old one in the list?"
        ) from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
