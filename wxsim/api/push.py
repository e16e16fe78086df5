"""Pushes: mass sends (群发) with quotas and idempotency, template messages, subscription notifications.

Job reports (MASSSENDJOBFINISH, TEMPLATESENDJOBFINISH) are delivered to the account's message server
once delivery completes, from a background thread, as WeChat does some time after the API answers.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, api
from wxsim.delivery import deliver
from wxsim.errors import WeChatError, fail
from wxsim.model import Account, Fan, make_openid
from wxsim.protocol.xmlbuild import callback_xml
from wxsim.world import World

MASS_TYPES = {"mpnews", "text", "voice", "image", "mpvideo", "wxcard"}
SEND_LIST_MAX = 10000
SERVICE_MONTHLY = 4
CLIENTMSGID_MAX = 64
CLIENTMSGID_WINDOW = 86400
RETRY_WINDOW = 60
CHINA = timedelta(hours=8)


def _day(ts: float) -> str:
    return (datetime.fromtimestamp(ts, UTC) + CHINA).strftime("%Y-%m-%d")


def _month(ts: float) -> str:
    return (datetime.fromtimestamp(ts, UTC) + CHINA).strftime("%Y-%m")


def _content(body: dict[str, Any]) -> str:
    msg_type = body.get("msgtype")
    if msg_type not in MASS_TYPES or not isinstance(body.get(msg_type), dict):
        raise fail(e.PARSE_ERROR, "msgtype and its object")
    return str(msg_type)


def _report_later(world: World, account: Account, xml_fields: dict[str, Any], openid: str) -> None:
    def run() -> None:
        when = int(world.clock.now())
        xml = callback_xml(
            to_user=account.original_id, from_user=openid, create_time=when, msg_type="event", **xml_fields
        )
        deliver(account, xml, openid, when)

    threading.Thread(target=run, daemon=True).start()


def _mass(request: Request, recipients: list[Fan], body: dict[str, Any], *, targeted: bool) -> dict[str, Any]:
    world, account = request.world, request.need_account()
    msg_type = _content(body)
    now = world.clock.now()
    client_id = body.get("clientmsgid")
    if client_id is not None:
        if len(str(client_id)) > CLIENTMSGID_MAX:
            raise fail(e.CLIENTMSGID_TOO_LONG)
        seen = account.mass_clientmsgids.get(str(client_id))
        if seen is not None and now - seen[1] < CLIENTMSGID_WINDOW:
            if now - seen[1] < RETRY_WINDOW:
                raise fail(e.CLIENTMSGID_RETRY)
            raise WeChatError(e.CLIENTMSGID_USED[0], e.CLIENTMSGID_USED[1] + f" msg_id {seen[0]}")
    if account.account_type == "subscription":
        if any(_day(t) == _day(now) for t in account.mass_days):
            raise fail(e.NO_MASS_QUOTA, "subscription accounts send once a day")
        allowed = recipients
    else:
        month = _month(now)
        allowed = [
            f for f in recipients if sum(1 for t in f.mass_received if _month(t) == month) < SERVICE_MONTHLY
        ]
        if recipients and not allowed:
            raise fail(e.NO_MASS_QUOTA, "every recipient has had 4 this month")
    account.mass_days.append(now)
    msg_id = account.next_msg_seq
    account.next_msg_seq += 1
    if client_id is not None:
        account.mass_clientmsgids[str(client_id)] = (msg_id, now)
    for fan in allowed:
        fan.mass_received.append(now)
    account.mass_jobs[msg_id] = {"status": "SEND_SUCCESS", "total": len(recipients), "sent": len(allowed)}
    for fan in allowed:
        world.record(
            account.appid,
            fan.openid,
            "mass",
            {"msg_id": msg_id, "msgtype": msg_type, msg_type: body[msg_type], "targeted": targeted},
        )
    helper = make_openid(account.appid, 0, -1)
    _report_later(
        world,
        account,
        {
            "Event": "MASSSENDJOBFINISH",
            "MsgID": msg_id,
            "Status": "send success",
            "TotalCount": len(recipients),
            "FilterCount": len(allowed),
            "SentCount": len(allowed),
            "ErrorCount": 0,
        },
        helper,
    )
    return {
        "errcode": 0,
        "errmsg": "send job submission success",
        "msg_id": msg_id,
        "msg_data_id": msg_id * 10,
    }


@api("POST", "/cgi-bin/message/mass/sendall")
def sendall(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    raw_filter = body.get("filter")
    filt: dict[str, Any] = raw_filter if isinstance(raw_filter, dict) else {}
    with request.world.lock:
        fans = [
            account.fans[o]
            for o in account.fan_order
            if account.fans[o].following and not account.fans[o].blacklisted
        ]
        if not filt.get("is_to_all"):
            try:
                tag_id = int(filt.get("tag_id", ""))
            except (TypeError, ValueError):
                raise fail(e.INVALID_TAG_ID) from None
            fans = [f for f in fans if tag_id in f.tags]
        return _mass(request, fans, body, targeted=not filt.get("is_to_all"))


@api("POST", "/cgi-bin/message/mass/send")
def send(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    touser = body.get("touser")
    if not isinstance(touser, list) or not 2 <= len(touser) <= SEND_LIST_MAX:
        raise fail(e.INVALID_LIST_SIZE, f"touser holds 2 to {SEND_LIST_MAX} openids")
    with request.world.lock:
        fans = [request.world.fan(account, str(o)) for o in touser]
        return _mass(request, [f for f in fans if f.following and not f.blacklisted], body, targeted=True)


@api("POST", "/cgi-bin/message/mass/preview")
def preview(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    msg_type = _content(body)
    with request.world.lock:
        fan = request.world.fan(account, str(body.get("touser", "")))
        if not fan.following:
            raise fail(e.REQUIRE_SUBSCRIBE)
    request.world.record(
        account.appid, fan.openid, "preview", {"msgtype": msg_type, msg_type: body[msg_type]}
    )
    return {"errcode": 0, "errmsg": "preview success", "msg_id": 0}


@api("POST", "/cgi-bin/message/mass/get")
def get(request: Request) -> dict[str, Any]:
    job = request.need_account().mass_jobs.get(int(request.json().get("msg_id", 0)))
    if job is None:
        raise fail(e.INVALID_MSG_ID)
    return {"msg_id": int(request.json()["msg_id"]), "msg_status": job["status"]}


@api("POST", "/cgi-bin/message/mass/delete")
def delete(request: Request) -> dict[str, Any]:
    job = request.need_account().mass_jobs.get(int(request.json().get("msg_id", 0)))
    if job is None:
        raise fail(e.INVALID_MSG_ID)
    job["status"] = "DELETE"
    return {"errcode": 0, "errmsg": "ok"}


@api("POST", "/cgi-bin/message/template/send")
def template_send(request: Request) -> dict[str, Any]:
    account = request.need_account()
    if account.account_type != "service" or not account.verified:
        raise fail(e.API_UNAUTHORIZED)
    body = request.json()
    if not body.get("template_id") or not isinstance(body.get("data"), dict):
        raise fail(e.INVALID_TEMPLATE)
    with request.world.lock:
        fan = request.world.fan(account, str(body.get("touser", "")))
        if not fan.following:
            raise fail(e.REQUIRE_SUBSCRIBE)
        msg_id = account.next_msg_seq
        account.next_msg_seq += 1
    status = "failed:user block" if fan.refuses_messages else "success"
    if status == "success":
        request.world.record(account.appid, fan.openid, "template", {"msgid": msg_id, **body})
    _report_later(
        request.world,
        account,
        {"Event": "TEMPLATESENDJOBFINISH", "MsgID": msg_id, "Status": status},
        fan.openid,
    )
    return {"errcode": 0, "errmsg": "ok", "msgid": msg_id}


@api("POST", "/cgi-bin/message/subscribe/bizsend")
def subscribe_send(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    template = str(body.get("template_id", ""))
    with request.world.lock:
        fan = request.world.fan(account, str(body.get("touser", "")))
        if fan.consents.get(template, 0) <= 0:
            raise fail(e.USER_REFUSED_SUBSCRIBE)
        fan.consents[template] -= 1  # each acceptance allows one notification
    request.world.record(account.appid, fan.openid, "subscribe_message", dict(body))
    return {"errcode": 0, "errmsg": "ok"}
