"""Signatures and message crypto: the fact sheet's vectors, wechatpy as an oracle, every bad input."""

from __future__ import annotations

import base64
import contextlib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from liucun.wechat.crypto import MessageCrypto
from liucun.wechat.errors import (
    AppIdMismatch,
    DecryptError,
    InvalidAESKey,
    MalformedXML,
    PaddingError,
    ProtocolError,
    SignatureError,
)
from liucun.wechat.messages import TextMessage, parse_message
from liucun.wechat.signature import msg_signature, url_signature, verify_msg_signature, verify_url_signature

V1_TOKEN, V1_KEY, V1_APPID = "spamtest", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2"
V1_TS, V1_NONCE = "1409735669", "1320562132"
V1_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9"
    "FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3y"
    "t+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v"
    "6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
# wechatpy's own test values (V3 in the fact sheet): WeCom-style id, same algorithm.
V3_TOKEN, V3_KEY, V3_ID = "123456", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wx49f0ab532d5d035a"


def v1() -> MessageCrypto:
    return MessageCrypto(V1_TOKEN, V1_KEY, V1_APPID)


def test_v1_signatures() -> None:
    assert msg_signature(V1_TOKEN, V1_TS, V1_NONCE, V1_ENCRYPT) == "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
    assert url_signature(V1_TOKEN, V1_TS, V1_NONCE) == "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"
    verify_url_signature(V1_TOKEN, V1_TS, V1_NONCE, "16120EC1B8DBB870F510D87CE6BC2463EAE6CA1A")
    with pytest.raises(SignatureError, match="missing"):
        verify_url_signature(V1_TOKEN, V1_TS, V1_NONCE, "")
    with pytest.raises(SignatureError, match="does not match"):
        verify_msg_signature(V1_TOKEN, V1_TS, V1_NONCE, V1_ENCRYPT, "0" * 40)


def test_v1_decrypts_to_the_official_message() -> None:
    body = (
        "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>"
        f"<Encrypt><![CDATA[{V1_ENCRYPT}]]></Encrypt></xml>"
    )
    xml = v1().decrypt_callback(
        body.encode(),
        msg_signature="5d197aaffba7e9b25a30732f161a50dee96bd5fa",
        timestamp=V1_TS,
        nonce=V1_NONCE,
    )
    message = parse_message(xml)
    assert isinstance(message, TextMessage)
    assert (message.from_user, message.to_user, message.create_time) == (
        "oyORnuP8q7ou2gfYjqLzSIWZf0rs",
        "gh_10f6c3c3ac5a",
        1409735668,
    )
    assert (message.content, message.msg_id) == ("abcdteT", 6054768590064713728)
    assert "\n" in xml.decode()


def test_v3_round_trip_with_a_fixed_prefix_matches_wechatpy() -> None:
    ours = MessageCrypto(V3_TOKEN, V3_KEY, V3_ID)
    theirs = WeChatCrypto(V3_TOKEN, V3_KEY, V3_ID)
    envelope = theirs.encrypt_message(
        "<xml><Content><![CDATA[test]]></Content></xml>", "nonce1", "1411034505"
    )
    encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", envelope).group(1)
    assert ours.decrypt(encrypt) == b"<xml><Content><![CDATA[test]]></Content></xml>"
    # With the same 16-byte prefix both implementations must produce the same ciphertext, byte for byte.
    from wechatpy.crypto import PrpCrypto

    prp = PrpCrypto(base64.b64decode(V3_KEY + "="))
    prp.get_random_string = lambda: "0123456789abcdef"  # type: ignore[method-assign]
    expected = prp._encrypt("<xml>hello 你好</xml>", V3_ID).decode()
    assert ours.encrypt("<xml>hello 你好</xml>", random_prefix=b"0123456789abcdef") == expected


texts = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=0, max_size=300)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_ours_and_wechatpy_decrypt_each_other(text: str) -> None:
    xml = f"<xml><Content><![CDATA[{text}]]></Content></xml>"
    ours = MessageCrypto(V1_TOKEN, V1_KEY, V1_APPID)
    theirs = WeChatCrypto(V1_TOKEN, V1_KEY, V1_APPID)
    reply = ours.encrypt_reply(xml, timestamp="1409735669", nonce="42")
    sig = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", reply).group(1)
    assert theirs.decrypt_message(reply, sig, "1409735669", "42") == xml
    envelope = theirs.encrypt_message(xml, "43", "1409735670")
    encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", envelope).group(1)
    assert ours.decrypt(encrypt).decode() == xml


@pytest.mark.parametrize("length", [0, 1, 31, 32, 33, 64 - 22, 96])
def test_block_aligned_lengths_get_a_whole_padding_block(length: int) -> None:
    crypto = v1()
    message = "x" * length
    raw = base64.b64decode(crypto.encrypt(message))
    assert len(raw) % 32 == 0
    plain_len = 16 + 4 + length + len(V1_APPID)
    assert len(raw) == plain_len + (32 - plain_len % 32)
    assert crypto.decrypt(crypto.encrypt(message)) == message.encode()


@pytest.mark.parametrize("key", ["short", "a" * 44, "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF!", "", None])
def test_bad_aes_keys(key: object) -> None:
    with pytest.raises(InvalidAESKey):
        MessageCrypto("t", key, "wx1")  # type: ignore[arg-type]


def test_bad_ciphertexts_raise_typed_errors() -> None:
    crypto = v1()
    good = crypto.encrypt("<xml/>")
    raw = bytearray(base64.b64decode(good))
    raw[-1] ^= 0xFF
    with pytest.raises(DecryptError):
        crypto.decrypt(base64.b64encode(bytes(raw)).decode())
    with pytest.raises(DecryptError, match="base64"):
        crypto.decrypt("not base64 !!")
    with pytest.raises(DecryptError, match="multiple"):
        crypto.decrypt(base64.b64encode(b"x" * 17).decode())
    with pytest.raises(DecryptError):
        crypto.decrypt("")
    with pytest.raises(AppIdMismatch):
        MessageCrypto(V1_TOKEN, V1_KEY, "wx0000000000000000").decrypt(good)
    other_key = MessageCrypto(V1_TOKEN, "B" * 43, V1_APPID)
    with pytest.raises(DecryptError):
        other_key.decrypt(good)


def test_padding_is_checked() -> None:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    key = base64.b64decode(V1_KEY + "=")
    plain = b"0" * 16 + b"\x00\x00\x00\x02" + b"hi" + V1_APPID.encode()
    plain += bytes([5]) * 3 + bytes([9]) * 5  # last byte says 9, the bytes before disagree
    plain += bytes(32 - len(plain) % 32) if len(plain) % 32 else b""
    plain = plain[:-1] + b"\x21"  # 33: out of range for a 32-byte block
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    ciphertext = base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode()
    with pytest.raises(PaddingError):
        v1().decrypt(ciphertext)


def test_envelope_without_encrypt_is_malformed() -> None:
    with pytest.raises(MalformedXML):
        v1().decrypt_callback(
            b"<xml><ToUserName>gh</ToUserName></xml>", msg_signature="x", timestamp="1", nonce="2"
        )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_only_ever_raise_protocol_errors(data: bytes) -> None:
    crypto = v1()
    for attempt in (
        lambda: crypto.decrypt(base64.b64encode(data).decode()),
        lambda: crypto.decrypt(data.decode("latin-1")),
        lambda: crypto.decrypt_callback(data, msg_signature="x", timestamp="1", nonce="2"),
    ):
        with contextlib.suppress(ProtocolError):
            attempt()
