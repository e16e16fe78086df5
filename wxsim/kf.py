"""Customer-service sessions (多客服): who serves which fan, the waiting queue, and what changes them.

Rules, from the platform's customer-service documentation (客服帐号管理, 会话控制, 将消息转发到客服):
- a passive reply of MsgType `transfer_customer_service` hands the fan's message to the customer-service
  system: the fan waits for an agent; with `<TransInfo><KfAccount>` only that agent serves them, at once
  if online ("如果指定的客服没有接入能力...该用户会一直等待指定客服有接入能力后才会被接入");
- while a session is open, the fan's messages go to the agent, not to the message server; after 30
  minutes without a close, WeChat stops forwarding ("当会话超过30分钟客服没有关闭时，微信服务器会自动
  停止转发至客服"); a fan in the waiting queue still reaches the message server;
- `kfsession/create` needs an online agent (65415) and a fan nobody else serves (65414); creating a session
  that exists answers 0;
- each change reaches the message server as an event from the fan: kf_create_session {KfAccount},
  kf_close_session {KfAccount}, kf_switch_session {FromKfAccount, ToKfAccount}.
"""

from __future__ import annotations

import re
from typing import Any

from wxsim import errors as e
from wxsim.errors import fail
from wxsim.model import Account, Fan
from wxsim.protocol.xmlbuild import callback_xml

SESSION_IDLE = 1800
_FIELD = re.compile(r"<(MsgType|KfAccount)>\s*(?:<!\[CDATA\[(.*?)\]\]>|([^<]*))\s*</\1>", re.S)


def event_xml(account: Account, fan: Fan, at: int, event: str, **fields: Any) -> str:
    return callback_xml(
        to_user=account.original_id,
        from_user=fan.openid,
        create_time=at,
        msg_type="event",
        Event=event,
        **fields,
    )


def agent(account: Account, kf_account: str) -> dict[str, Any]:
    found = account.kf_accounts.get(kf_account)
    if found is None:
        raise fail(e.KF_INVALID_ACCOUNT)
    return found


def live_session(account: Account, openid: str, now: float) -> dict[str, Any] | None:
    """The fan's open session, if any; one idle for 30 minutes has ended."""
    session = account.kf_sessions.get(openid)
    if session is not None and now - session["latest"] > SESSION_IDLE:
        del account.kf_sessions[openid]
        return None
    return session


def accepted_cases(account: Account, kf_account: str, now: float) -> int:
    return sum(
        1
        for openid in list(account.kf_sessions)
        if (s := live_session(account, openid, now)) and s["kf_account"] == kf_account
    )


def open_session(account: Account, fan: Fan, kf_account: str, now: float) -> bool:
    """Give the fan to an online agent; False when that agent already serves them (nothing changes)."""
    if agent(account, kf_account)["status"] != 1:
        raise fail(e.KF_OFFLINE)
    session = live_session(account, fan.openid, now)
    if session is not None:
        if session["kf_account"] != kf_account:
            raise fail(e.KF_FAN_TAKEN)
        return False
    account.kf_waiting.pop(fan.openid, None)
    account.kf_sessions[fan.openid] = {"kf_account": kf_account, "createtime": int(now), "latest": now}
    return True


def close_session(account: Account, fan: Fan, kf_account: str, now: float) -> None:
    agent(account, kf_account)
    session = live_session(account, fan.openid, now)
    if session is None or session["kf_account"] != kf_account:
        raise fail(e.KF_NO_SESSION)
    del account.kf_sessions[fan.openid]


def switch_session(account: Account, fan: Fan, to_kf: str, now: float) -> str:
    session = live_session(account, fan.openid, now)
    if session is None:
        raise fail(e.KF_NO_SESSION)
    if agent(account, to_kf)["status"] != 1:
        raise fail(e.KF_OFFLINE)
    previous = str(session["kf_account"])
    session["kf_account"], session["latest"] = to_kf, now
    return previous


def forwarded_to(account: Account, fan: Fan, now: float) -> str | None:
    """The agent who receives this fan's message instead of the message server, if any."""
    session = live_session(account, fan.openid, now)
    if session is None:
        waiting = account.kf_waiting.get(fan.openid)
        if waiting is not None:
            waiting["latest_time"] = int(now)
        return None
    session["latest"] = now
    return str(session["kf_account"])


def transfer_target(reply_xml: str) -> tuple[bool, str]:
    """(is this passive reply a transfer_customer_service, the agent it names or "")."""
    fields = {
        m.group(1): (m.group(2) if m.group(2) is not None else m.group(3)).strip()
        for m in _FIELD.finditer(reply_xml)
    }
    return fields.get("MsgType") == "transfer_customer_service", fields.get("KfAccount", "")


def transfer(account: Account, fan: Fan, kf_account: str, now: float) -> str | None:
    """Queue the fan for an agent; a named online agent takes them at once. Returns that agent, if any."""
    if live_session(account, fan.openid, now) is not None:
        return None
    named = account.kf_accounts.get(kf_account) if kf_account else None
    if named is not None and named["status"] == 1:
        open_session(account, fan, kf_account, now)
        return kf_account
    account.kf_waiting[fan.openid] = {"latest_time": int(now), "kf_account": kf_account if named else ""}
    return None
