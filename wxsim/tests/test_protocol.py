"""wxsim's own protocol code against the fact sheet's official vector and against wechatpy."""

from __future__ import annotations

from wechatpy.crypto import WeChatCrypto

from wxsim.protocol.aes import CallbackCipher
from wxsim.protocol.signing import sorted_sha1

V1_ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9"
    "FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3y"
    "t+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v"
    "6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
KEY, APPID = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "wx2c2769f8efd9abc2"


def test_v1_vector() -> None:
    assert sorted_sha1("spamtest", "1409735669", "1320562132") == "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"
    assert (
        sorted_sha1("spamtest", "1409735669", "1320562132", V1_ENCRYPT)
        == "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
    )
    xml = CallbackCipher(KEY, APPID).open(V1_ENCRYPT).decode()
    assert "<Content><![CDATA[abcdteT]]></Content>" in xml and "6054768590064713728" in xml


def test_sealed_messages_open_with_wechatpy() -> None:
    sealed = CallbackCipher(KEY, APPID).seal("<xml><Content><![CDATA[你好]]></Content></xml>".encode())
    signature = sorted_sha1("spamtest", "1", "2", sealed)
    envelope = f"<xml><Encrypt><![CDATA[{sealed}]]></Encrypt></xml>"
    assert "你好" in WeChatCrypto("spamtest", KEY, APPID).decrypt_message(envelope, signature, "1", "2")
