"""The XML WeChat sends to a message server, for every message and event type wxsim can produce."""

from __future__ import annotations

from xml.sax.saxutils import escape


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _field(name: str, value: object) -> str:
    if isinstance(value, dict):
        return f"<{name}>" + "".join(_field(k, v) for k, v in value.items()) + f"</{name}>"
    if isinstance(value, list):
        return f"<{name}>" + "".join(_field("item", v) for v in value) + f"</{name}>"
    if isinstance(value, int | float):
        return f"<{name}>{value}</{name}>"
    return f"<{name}>{_cdata(str(value))}</{name}>"


def callback_xml(*, to_user: str, from_user: str, create_time: int, msg_type: str, **fields: object) -> str:
    head = (
        f"<ToUserName>{_cdata(to_user)}</ToUserName><FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{create_time}</CreateTime><MsgType>{_cdata(msg_type)}</MsgType>"
    )
    return "<xml>" + head + "".join(_field(k, v) for k, v in fields.items() if v is not None) + "</xml>"


def encrypted_envelope(to_user: str, encrypt: str) -> str:
    return f"<xml><ToUserName>{_cdata(to_user)}</ToUserName><Encrypt>{_cdata(encrypt)}</Encrypt></xml>"


def text_escape(value: str) -> str:
    return escape(value)
