"""WeChat's callback message encryption (AES-256-CBC) on `cryptography`.

Plaintext layout: 16 random bytes, a 4-byte big-endian length, the UTF-8 message, the appid; PKCS#7
padded to a multiple of 32 bytes (a whole 32-byte block when already aligned). Key = base64 of the
43-character EncodingAESKey plus "="; IV = the first 16 bytes of the key.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import struct
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from liucun.wechat.errors import AppIdMismatch, DecryptError, InvalidAESKey, PaddingError
from liucun.wechat.signature import msg_signature, verify_msg_signature
from liucun.wechat.xmlparse import parse_envelope

BLOCK = 32
_KEY_SHAPE = re.compile(r"[A-Za-z0-9]{43}")


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


class MessageCrypto:
    def __init__(self, token: str, encoding_aes_key: str, appid: str) -> None:
        if not isinstance(encoding_aes_key, str) or not _KEY_SHAPE.fullmatch(encoding_aes_key):
            raise InvalidAESKey("an EncodingAESKey is exactly 43 letters and digits")
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise InvalidAESKey("the EncodingAESKey is not valid base64") from None
        if len(key) != 32:
            raise InvalidAESKey("the EncodingAESKey does not decode to 32 bytes")
        self.token = token
        self.appid = appid
        self._appid_bytes = appid.encode("utf-8")
        # One Cipher for the account's life, each message still with its own context from it: building
        # the Cipher on every callback was about a third of a decrypt's time (docs/performance.md).
        self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))

    def encrypt(self, message: str | bytes, *, random_prefix: bytes | None = None) -> str:
        body = message.encode("utf-8") if isinstance(message, str) else message
        prefix = os.urandom(16) if random_prefix is None else random_prefix
        if len(prefix) != 16:
            raise ValueError("random_prefix must be 16 bytes")
        plain = prefix + struct.pack(">I", len(body)) + body + self._appid_bytes
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher.encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypt_b64: str) -> bytes:
        try:
            cipher_bytes = base64.b64decode(encrypt_b64, validate=True)
        except (binascii.Error, ValueError):
            raise DecryptError("Encrypt is not valid base64") from None
        if not cipher_bytes or len(cipher_bytes) % 16:
            raise DecryptError("ciphertext length is not a multiple of the AES block size")
        decryptor = self._cipher.decryptor()
        plain = decryptor.update(cipher_bytes) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or pad > len(plain) or plain[-pad:] != bytes([pad]) * pad:
            raise PaddingError("bad padding (wrong key or tampered ciphertext)")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise DecryptError("plaintext is too short for WeChat's layout")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise DecryptError("message length field points past the end of the plaintext")
        message = plain[20 : 20 + length]
        appid = plain[20 + length :]
        if appid != self._appid_bytes:
            raise AppIdMismatch("the ciphertext is for another appid")
        return message

    def decrypt_callback(self, body: bytes, *, msg_signature: str, timestamp: str, nonce: str) -> bytes:
        envelope = parse_envelope(body)
        verify_msg_signature(self.token, timestamp, nonce, envelope.encrypt, msg_signature)
        return self.decrypt(envelope.encrypt)

    def encrypt_reply(self, reply_xml: str, *, timestamp: str | None = None, nonce: str | None = None) -> str:
        timestamp = timestamp or str(int(time.time()))
        # One read of the system's randomness for the plaintext's prefix and the nonce (a callback answer
        # pays for each read), the nonce from bytes of its own: 10 decimal digits, as before.
        randomness = os.urandom(21)
        nonce = nonce or str(int.from_bytes(randomness[16:]) % 10**10)
        encrypt = self.encrypt(reply_xml, random_prefix=randomness[:16])
        signature = msg_signature(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt>{_cdata(encrypt)}</Encrypt><MsgSignature>{_cdata(signature)}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{_cdata(nonce)}</Nonce></xml>"
        )
