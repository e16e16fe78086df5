"""WeChat's SHA-1 signatures over sorted parameters, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac

from liucun.wechat.errors import SignatureError


def _sorted_sha1(*parts: str) -> str:
    # SHA-1 is what WeChat specifies; it authenticates with the shared token, not as a password hash.
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324


def url_signature(token: str, timestamp: str, nonce: str) -> str:
    return _sorted_sha1(token, timestamp, nonce)


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return _sorted_sha1(token, timestamp, nonce, encrypt)


def _check(expected: str, given: str | None, what: str) -> None:
    if not given:
        raise SignatureError(f"{what} is missing")
    if not hmac.compare_digest(expected.encode("ascii"), given.strip().lower().encode("utf-8")):
        raise SignatureError(f"{what} does not match")


def verify_url_signature(token: str, timestamp: str, nonce: str, signature: str | None) -> None:
    _check(url_signature(token, timestamp, nonce), signature, "signature")


def verify_msg_signature(token: str, timestamp: str, nonce: str, encrypt: str, signature: str | None) -> None:
    _check(msg_signature(token, timestamp, nonce, encrypt), signature, "msg_signature")
