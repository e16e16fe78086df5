"""Customer-service messages (客服消息), the typing indicator, customer-service accounts and sessions.

A message is accepted only inside the fan's window: 5 within 48 h of a message from the fan, 3 within a
minute of a menu click, follow or scan (45015 outside, 45047 over the count, 48002 the fan refuses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from liucun.wechat.api.content import (
    Card,
    Choices,
    Draft,
    Image,
    Link,
    Message,
    MiniProgramPage,
    Music,
    PublishedArticle,
    Text,
    Video,
    Voice,
    body,
)
from liucun.wechat.api.limits import LimitError, max_chars
from liucun.wechat.client import WeChatClient

SEND = "/cgi-bin/message/custom/send"
TYPING = "/cgi-bin/message/custom/typing"
ACCOUNTS = "/cgi-bin/customservice/getkflist"
ONLINE = "/cgi-bin/customservice/getonlinekflist"
ACCOUNT_ADD = "/customservice/kfaccount/add"
ACCOUNT_UPDATE = "/customservice/kfaccount/update"
ACCOUNT_DELETE = "/customservice/kfaccount/del"
SESSION_CREATE = "/customservice/kfsession/create"
SESSION_CLOSE = "/customservice/kfsession/close"
SESSION_OF_FAN = "/customservice/kfsession/getsession"
SESSIONS_OF_ACCOUNT = "/customservice/kfsession/getsessionlist"
WAITING = "/customservice/kfsession/getwaitcase"

SENDABLE = (Text, Image, Voice, Video, Music, Link, Draft, PublishedArticle, Choices, Card, MiniProgramPage)
NICKNAME_MAX_CHARS = 16
ACCOUNT_PREFIX_MAX_CHARS = 10  # the part before "@" of "prefix@account"


def send(client: WeChatClient, openid: str, message: Message, *, as_account: str = "") -> None:
    """One message to one fan; `as_account` ("prefix@account") sends it as that customer-service agent."""
    if not isinstance(message, SENDABLE):
        raise LimitError(SEND, 40008, f"{message.msgtype} is not a customer-service message type")
    payload: dict[str, Any] = {"touser": openid, **body(message)}
    if as_account:
        payload["customservice"] = {"kf_account": as_account}
    client.post(SEND, payload)


def typing(client: WeChatClient, openid: str, *, on: bool = True) -> None:
    """Show (or stop showing) "typing…" to a fan who acted in the last 30 s; not again within 15 s (45081)."""
    client.post(TYPING, {"touser": openid, "command": "Typing" if on else "CancelTyping"})


@dataclass(frozen=True)
class Agent:
    account: str  # prefix@account
    nickname: str
    id: str
    head_image_url: str = ""


@dataclass(frozen=True)
class OnlineAgent:
    account: str
    id: str
    status: int
    accepted_cases: int


@dataclass(frozen=True)
class Session:
    openid: str
    account: str
    created_at: int


@dataclass(frozen=True)
class Waiting:
    openid: str
    latest_time: int


def agents(client: WeChatClient) -> list[Agent]:
    answer = client.get(ACCOUNTS)
    return [
        Agent(
            str(a["kf_account"]),
            str(a.get("kf_nick", "")),
            str(a.get("kf_id", "")),
            str(a.get("kf_headimgurl", "")),
        )
        for a in answer.get("kf_list", [])
    ]


def online_agents(client: WeChatClient) -> list[OnlineAgent]:
    answer = client.get(ONLINE)
    return [
        OnlineAgent(
            str(a["kf_account"]),
            str(a.get("kf_id", "")),
            int(a.get("status", 0)),
            int(a.get("accepted_case", 0)),
        )
        for a in answer.get("kf_online_list", [])
    ]


def _account(path: str, account: str) -> str:
    prefix, at, rest = account.partition("@")
    if not prefix or not at or not rest or len(prefix) > ACCOUNT_PREFIX_MAX_CHARS:
        raise LimitError(path, 65404, "the account is prefix@account, the prefix 1 to 10 characters")
    return account


def add_agent(client: WeChatClient, account: str, nickname: str) -> None:
    max_chars(ACCOUNT_ADD, "the nickname", nickname, NICKNAME_MAX_CHARS, 65403)
    client.post(ACCOUNT_ADD, {"kf_account": _account(ACCOUNT_ADD, account), "nickname": nickname})


def rename_agent(client: WeChatClient, account: str, nickname: str) -> None:
    max_chars(ACCOUNT_UPDATE, "the nickname", nickname, NICKNAME_MAX_CHARS, 65403)
    client.post(ACCOUNT_UPDATE, {"kf_account": _account(ACCOUNT_UPDATE, account), "nickname": nickname})


def delete_agent(client: WeChatClient, account: str) -> None:
    client.get(ACCOUNT_DELETE, {"kf_account": _account(ACCOUNT_DELETE, account)})


def open_session(client: WeChatClient, account: str, openid: str) -> None:
    client.post(SESSION_CREATE, {"kf_account": account, "openid": openid})


def close_session(client: WeChatClient, account: str, openid: str) -> None:
    client.post(SESSION_CLOSE, {"kf_account": account, "openid": openid})


def session_of(client: WeChatClient, openid: str) -> Session | None:
    """The fan's open session, None when no agent holds it."""
    answer = client.get(SESSION_OF_FAN, {"openid": openid})
    if not answer.get("kf_account"):
        return None
    return Session(openid, str(answer["kf_account"]), int(answer.get("createtime", 0)))


def sessions_of(client: WeChatClient, account: str) -> list[Session]:
    answer = client.get(SESSIONS_OF_ACCOUNT, {"kf_account": account})
    return [
        Session(str(s["openid"]), account, int(s.get("createtime", 0))) for s in answer.get("sessionlist", [])
    ]


def waiting(client: WeChatClient) -> list[Waiting]:
    answer = client.get(WAITING)
    return [Waiting(str(w["openid"]), int(w.get("latest_time", 0))) for w in answer.get("waitcaselist", [])]
