"""The callback message cipher: AES-256-CBC, IV = key[:16], PKCS#7 padding to 32-byte blocks.

Plaintext: 16 random bytes | 4-byte big-endian length | message | appid.
"""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class CipherError(ValueError):
    pass


class CallbackCipher:
    def __init__(self, encoding_aes_key: str, appid: str) -> None:
        key = base64.b64decode(encoding_aes_key + "=")
        if len(key) != 32:
            raise CipherError("EncodingAESKey must decode to 32 bytes")
        self._key = key
        self._appid = appid.encode()

    def seal(self, message: bytes, prefix: bytes | None = None) -> str:
        prefix = prefix if prefix is not None else os.urandom(16)
        body = prefix + len(message).to_bytes(4, "big") + message + self._appid
        pad = 32 - len(body) % 32
        body += bytes((pad,)) * pad
        enc = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).encryptor()
        return base64.b64encode(enc.update(body) + enc.finalize()).decode()

    def open(self, sealed: str) -> bytes:
        try:
            raw = base64.b64decode(sealed, validate=True)
        except ValueError:
            raise CipherError("not base64") from None
        if not raw or len(raw) % 16:
            raise CipherError("bad ciphertext length")
        dec = Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16])).decryptor()
        body = dec.update(raw) + dec.finalize()
        pad = body[-1]
        if not 0 < pad <= 32 or body[-pad:] != bytes((pad,)) * pad:
            raise CipherError("bad padding")
        body = body[:-pad]
        length = int.from_bytes(body[16:20], "big")
        message, appid = body[20 : 20 + length], body[20 + length :]
        if len(message) != length or appid != self._appid:
            raise CipherError("wrong appid or truncated message")
        return message
