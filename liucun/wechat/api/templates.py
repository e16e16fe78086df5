"""Template messages (verified service accounts), the account's template library, and subscription
notifications (一次性订阅 / 订阅通知: one message per consent, 43101 when the fan did not consent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from liucun.wechat.api.limits import LimitError, max_bytes, max_chars
from liucun.wechat.client import WeChatClient

SEND = "/cgi-bin/message/template/send"
SET_INDUSTRY = "/cgi-bin/template/api_set_industry"
INDUSTRY = "/cgi-bin/template/get_industry"
LIBRARY = "/cgi-bin/template/get_all_private_template"
ADD = "/cgi-bin/template/api_add_template"
REMOVE = "/cgi-bin/template/del_private_template"
NOTIFY = "/cgi-bin/message/subscribe/bizsend"
SUBSCRIPTION_ADD = "/wxaapi/newtmpl/addtemplate"
SUBSCRIPTION_LIST = "/wxaapi/newtmpl/gettemplate"
SUBSCRIPTION_REMOVE = "/wxaapi/newtmpl/deltemplate"

CLIENT_MSG_ID_MAX_BYTES = 64
SCENE_MAX_CHARS = 15  # a subscription template's scene description


@dataclass(frozen=True)
class MiniProgram:
    appid: str
    page_path: str = ""


@dataclass(frozen=True)
class Template:
    template_id: str
    title: str
    content: str
    example: str = ""
    primary_industry: str = ""
    deputy_industry: str = ""


def _data(values: dict[str, str]) -> dict[str, dict[str, str]]:
    return {key: {"value": value} for key, value in values.items()}


def send(
    client: WeChatClient,
    openid: str,
    template_id: str,
    values: dict[str, str],
    *,
    url: str = "",
    miniprogram: MiniProgram | None = None,
    client_msg_id: str = "",
) -> int:
    """A template message; its msgid (the outcome arrives later as TEMPLATESENDJOBFINISH)."""
    if not template_id:
        raise LimitError(SEND, 40037, "no template_id")
    payload: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": _data(values)}
    if url:
        payload["url"] = url
    if miniprogram is not None:
        payload["miniprogram"] = {"appid": miniprogram.appid, "pagepath": miniprogram.page_path}
    if client_msg_id:
        payload["client_msg_id"] = max_bytes(
            SEND, "client_msg_id", client_msg_id, CLIENT_MSG_ID_MAX_BYTES, 47001
        )
    return int(client.post(SEND, payload)["msgid"])


@dataclass(frozen=True)
class Industries:
    primary: tuple[str, str]  # (first class, second class); ("", "") when unset
    secondary: tuple[str, str]


@dataclass(frozen=True)
class SubscriptionTemplate:
    template_id: str  # priTmplId
    title: str
    content: str
    kind: int = 2  # 2: one-off, 3: long-term


def set_industries(client: WeChatClient, primary: int, secondary: int) -> None:
    """The account's two industries (WeChat's codes 1 to 41); templates must fit one. Once a month."""
    client.post(SET_INDUSTRY, {"industry_id1": str(primary), "industry_id2": str(secondary)})


def industries(client: WeChatClient) -> Industries:
    answer = client.get(INDUSTRY)

    def pair(key: str) -> tuple[str, str]:
        value = answer.get(key) or {}
        return (str(value.get("first_class", "")), str(value.get("second_class", "")))

    return Industries(pair("primary_industry"), pair("secondary_industry"))


def library(client: WeChatClient) -> list[Template]:
    answer = client.get(LIBRARY)
    return [
        Template(
            template_id=str(t["template_id"]),
            title=str(t.get("title", "")),
            content=str(t.get("content", "")),
            example=str(t.get("example", "")),
            primary_industry=str(t.get("primary_industry", "")),
            deputy_industry=str(t.get("deputy_industry", "")),
        )
        for t in answer.get("template_list", [])
    ]


def add_template(client: WeChatClient, short_id: str, keywords: list[str] | None = None) -> str:
    """Add a template from WeChat's library by its short id; its template_id in this account."""
    payload: dict[str, Any] = {"template_id_short": short_id}
    if keywords:
        payload["keyword_name_list"] = list(keywords)
    return str(client.post(ADD, payload)["template_id"])


def remove_template(client: WeChatClient, template_id: str) -> None:
    client.post(REMOVE, {"template_id": template_id}, idempotent=True)


def notify(
    client: WeChatClient,
    openid: str,
    template_id: str,
    values: dict[str, str],
    *,
    page: str = "",
    miniprogram: MiniProgram | None = None,
) -> None:
    """A subscription notification: uses one of the fan's consents to this template."""
    payload: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": _data(values)}
    if page:
        payload["page"] = page
    if miniprogram is not None:
        payload["miniprogram"] = {"appid": miniprogram.appid, "pagepath": miniprogram.page_path}
    client.post(NOTIFY, payload)


def add_subscription_template(client: WeChatClient, tid: int, keyword_ids: list[int], scene: str) -> str:
    """Pick a subscription-notification template from WeChat's library; its priTmplId."""
    if not 2 <= len(keyword_ids) <= 5:
        raise LimitError(SUBSCRIPTION_ADD, 200020, "a subscription template takes 2 to 5 keywords")
    max_chars(SUBSCRIPTION_ADD, "the scene description", scene, SCENE_MAX_CHARS, 200021)
    answer = client.post(SUBSCRIPTION_ADD, {"tid": tid, "kidList": list(keyword_ids), "sceneDesc": scene})
    return str(answer["priTmplId"])


def subscription_templates(client: WeChatClient) -> list[SubscriptionTemplate]:
    answer = client.get(SUBSCRIPTION_LIST)
    return [
        SubscriptionTemplate(
            str(t["priTmplId"]), str(t.get("title", "")), str(t.get("content", "")), int(t.get("type", 2))
        )
        for t in answer.get("data", [])
    ]


def remove_subscription_template(client: WeChatClient, template_id: str) -> None:
    client.post(SUBSCRIPTION_REMOVE, {"priTmplId": template_id}, idempotent=True)
