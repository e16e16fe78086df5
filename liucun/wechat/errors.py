"""Typed errors of the callback protocol. Messages never include key material or ciphertext."""

from __future__ import annotations


class ProtocolError(Exception):
    """Anything wrong with a callback delivery or a reply."""


class SignatureError(ProtocolError):
    """signature or msg_signature missing or wrong."""


class MalformedXML(ProtocolError):
    """Not well-formed, wrong root element, or a required field missing or of the wrong type."""


class ForbiddenXML(ProtocolError):
    """A DTD, entity declaration or external reference: never legitimate in a WeChat callback."""


class InvalidAESKey(ProtocolError):
    """An EncodingAESKey that is not 43 letters and digits decoding to 32 bytes."""


class DecryptError(ProtocolError):
    """Ciphertext that is not base64, not block-aligned, or whose plaintext is not WeChat's layout."""


class PaddingError(DecryptError):
    """PKCS#7 padding that is out of range or inconsistent."""


class AppIdMismatch(DecryptError):
    """The appid inside the ciphertext is not this account's."""


class ReplyLimitError(ProtocolError):
    """A reply breaks a platform limit (too many news articles, text too long, empty)."""
