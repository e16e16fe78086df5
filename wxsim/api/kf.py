"""Customer-service accounts (客服帐号管理) and sessions (会话控制); the rules live in wxsim/kf.py.

Accounts: `kf_account` is "prefix@公众号微信号", the prefix at most 10 letters, digits or underscores
(65404 otherwise); nickname at most 16 characters (65403); at most 100 accounts (65405); an existing
account again is 65406; an unknown one 65401. Agents come online through `POST /wxsim/kf`, as when they
log in to the customer-service client.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from wxsim import errors as e
from wxsim import kf
from wxsim.api.routing import Request, Response, api, json_response
from wxsim.delivery import deliver
from wxsim.errors import fail
from wxsim.model import Account, Fan

KF_ACCOUNTS_MAX = 100
NICKNAME_MAX = 16
ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,30}$")
OK = {"errcode": 0, "errmsg": "ok"}


def _notify_later(account: Account, fan: Fan, at: int, event: str, **fields: Any) -> None:
    """Session events reach the message server after the API answers, as WeChat's pushes do."""
    xml = kf.event_xml(account, fan, at, event, **fields)
    threading.Thread(target=deliver, args=(account, xml, fan.openid, at), daemon=True).start()


def _nickname(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= NICKNAME_MAX:
        raise fail(e.KF_INVALID_NICKNAME)
    return value


@api("POST", "/customservice/kfaccount/add")
def add_account(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    name = body.get("kf_account")
    if not isinstance(name, str) or not ACCOUNT_NAME.match(name):
        raise fail(e.KF_BAD_ACCOUNT_NAME)
    nickname = _nickname(body.get("nickname"))
    with request.world.lock:
        if name in account.kf_accounts:
            raise fail(e.KF_EXISTS)
        if len(account.kf_accounts) >= KF_ACCOUNTS_MAX:
            raise fail(e.KF_TOO_MANY)
        kf_id = 1001 + max((a["kf_id"] - 1001 + 1 for a in account.kf_accounts.values()), default=0)
        account.kf_accounts[name] = {"kf_account": name, "kf_nick": nickname, "kf_id": kf_id, "status": 0}
    return OK


@api("POST", "/customservice/kfaccount/update")
def update_account(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    with request.world.lock:
        agent = kf.agent(account, str(body.get("kf_account", "")))
        agent["kf_nick"] = _nickname(body.get("nickname"))
    return OK


@api("GET", "/customservice/kfaccount/del")
def delete_account(request: Request) -> dict[str, Any]:
    account = request.need_account()
    name = request.query.get("kf_account", "")
    with request.world.lock:
        kf.agent(account, name)
        del account.kf_accounts[name]
        for openid in [o for o, s in account.kf_sessions.items() if s["kf_account"] == name]:
            del account.kf_sessions[openid]
    return OK


@api("GET", "/cgi-bin/customservice/getkflist")
def list_accounts(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        return {
            "kf_list": [
                {
                    "kf_account": a["kf_account"],
                    "kf_headimgurl": "",
                    "kf_id": a["kf_id"],
                    "kf_nick": a["kf_nick"],
                }
                for a in account.kf_accounts.values()
            ]
        }


@api("GET", "/cgi-bin/customservice/getonlinekflist")
def online_accounts(request: Request) -> dict[str, Any]:
    account = request.need_account()
    now = request.world.clock.now()
    with request.world.lock:
        return {
            "kf_online_list": [
                {
                    "kf_account": a["kf_account"],
                    "status": a["status"],
                    "kf_id": a["kf_id"],
                    "accepted_case": kf.accepted_cases(account, a["kf_account"], now),
                }
                for a in account.kf_accounts.values()
                if a["status"] == 1
            ]
        }


@api("POST", "/customservice/kfsession/create")
def create_session(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    now = request.world.clock.now()
    with request.world.lock:
        name = str(body.get("kf_account", ""))
        kf.agent(account, name)
        fan = request.world.fan(account, str(body.get("openid", "")))
        created = kf.open_session(account, fan, name, now)
    if created:
        _notify_later(account, fan, int(now), "kf_create_session", KfAccount=name)
    return OK


@api("POST", "/customservice/kfsession/close")
def close_session(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    now = request.world.clock.now()
    with request.world.lock:
        name = str(body.get("kf_account", ""))
        kf.agent(account, name)
        fan = request.world.fan(account, str(body.get("openid", "")))
        kf.close_session(account, fan, name, now)
    _notify_later(account, fan, int(now), "kf_close_session", KfAccount=name)
    return OK


@api("GET", "/customservice/kfsession/getsession")
def get_session(request: Request) -> dict[str, Any]:
    account = request.need_account()
    now = request.world.clock.now()
    with request.world.lock:
        fan = request.world.fan(account, request.query.get("openid", ""))
        session = kf.live_session(account, fan.openid, now)
    if session is None:
        return {**OK, "createtime": 0, "kf_account": ""}
    return {**OK, "createtime": session["createtime"], "kf_account": session["kf_account"]}


@api("GET", "/customservice/kfsession/getsessionlist")
def session_list(request: Request) -> dict[str, Any]:
    account = request.need_account()
    name = request.query.get("kf_account", "")
    now = request.world.clock.now()
    with request.world.lock:
        kf.agent(account, name)
        sessions = [
            {"createtime": s["createtime"], "openid": openid}
            for openid in list(account.kf_sessions)
            if (s := kf.live_session(account, openid, now)) is not None and s["kf_account"] == name
        ]
    return {"sessionlist": sessions}


@api("GET", "/customservice/kfsession/getwaitcase")
def wait_case(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        waiting = [{"latest_time": w["latest_time"], "openid": o} for o, w in account.kf_waiting.items()]
    return {"count": len(waiting), "waitcaselist": waiting}


@api("POST", "/wxsim/kf", token=False, faults=False)
def set_online(request: Request) -> Response:
    """`{appid, kf_account, online}`: an agent logs in to (or out of) the customer-service client."""
    body = request.json()
    account = request.world.account(str(body.get("appid", "")))
    with request.world.lock:
        agent = account.kf_accounts.get(str(body.get("kf_account", "")))
        if agent is None:
            return json_response({"error": "no such kf_account on this account"}, 400)
        agent["status"] = 1 if body.get("online", True) else 0
        return json_response(dict(agent))
