"""Pushes: mass sends (群发) with quotas and idempotency, template messages, subscription notifications.

Job reports (MASSSENDJOBFINISH, TEMPLATESENDJOBFINISH) are delivered to the account's message server
once delivery completes, from a background thread, as WeChat does some time after the API answers.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from wxsim import errors as e
from wxsim.api.drafts import draft
from wxsim.api.publishing import delete_pushed, push_publication
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
    if msg_type not in MASS_TYPES:
        raise fail(e.INVALID_MESSAGE_TYPE)
    if not isinstance(body.get(msg_type), dict):
        raise fail(e.PARSE_ERROR, f"the {msg_type} object")
    return str(msg_type)


def _idempotency_key(body: dict[str, Any], msg_type: str, audience: str) -> str:
    """The clientmsgid ("长度限制64字节"), or without one WeChat's own key: "如不填，则后台默认以群发范围和
    群发内容的摘要值做为clientmsgid" (群发接口 / clientmsgid; wechat-protocol.md section 4)."""
    client_id = body.get("clientmsgid")
    if client_id is not None:
        if len(str(client_id).encode("utf-8")) > CLIENTMSGID_MAX:
            raise fail(e.CLIENTMSGID_TOO_LONG)
        return str(client_id)
    content = json.dumps([audience, msg_type, body[msg_type]], sort_keys=True, ensure_ascii=False)
    return "digest:" + hashlib.sha256(content.encode("utf-8")).hexdigest()


def _check_repeat(seen: tuple[int, float] | None, now: float) -> None:
    if seen is None or now - seen[1] >= CLIENTMSGID_WINDOW:
        return
    if now - seen[1] < RETRY_WINDOW:
        raise fail(e.CLIENTMSGID_RETRY)
    # 45065 carries the first send's msg_id as its own field, as WeChat's answer does.
    used = fail(e.CLIENTMSGID_USED)
    raise _WithMsgId(used.errcode, used.errmsg, seen[0])


class _WithMsgId(WeChatError):
    def __init__(self, errcode: int, errmsg: str, msg_id: int) -> None:
        super().__init__(errcode, errmsg)
        self.msg_id = msg_id

    def as_json(self) -> dict[str, object]:
        return {**super().as_json(), "msg_id": self.msg_id}


def _report_later(world: World, account: Account, xml_fields: dict[str, Any], openid: str) -> None:
    def run() -> None:
        when = int(world.clock.now())
        xml = callback_xml(
            to_user=account.original_id, from_user=openid, create_time=when, msg_type="event", **xml_fields
        )
        deliver(account, xml, openid, when)

    threading.Thread(target=run, daemon=True).start()


def _mass(
    request: Request, recipients: list[Fan], body: dict[str, Any], *, targeted: bool, audience: str
) -> dict[str, Any]:
    world, account = request.world, request.need_account()
    msg_type = _content(body)
    if msg_type == "mpnews":
        # An mpnews mass send names a draft (草稿箱): an unknown media_id is 40007 (wxsim/api/drafts.py).
        draft(account, str(body["mpnews"].get("media_id", "")))
    now = world.clock.now()
    client_id = _idempotency_key(body, msg_type, audience)
    _check_repeat(account.mass_clientmsgids.get(client_id), now)
    to_all = audience == "all"
    # Service accounts may send to everyone once a day (wechat-protocol.md section 4, mass send).
    sent_to_all_today = any(_day(t) == _day(now) for t in account.mass_to_all_days)
    if to_all and account.account_type == "service" and sent_to_all_today:
        raise fail(e.NO_MASS_QUOTA, "service accounts send to everyone once a day")
    # Fans who switched off "接收消息" are filtered: FilterCount counts those left to send to
    # (MASSSENDJOBFINISH: "过滤（...用户设置拒收的过滤，用户接收已超4条的过滤）后，准备发送的粉丝数").
    recipients_total = len(recipients)
    recipients = [f for f in recipients if not f.refuses_messages]
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
    if to_all:
        account.mass_to_all_days.append(now)
    msg_id = account.next_msg_seq
    account.next_msg_seq += 1
    account.mass_clientmsgids[client_id] = (msg_id, now)
    for fan in allowed:
        fan.mass_received.append(now)
    account.mass_jobs[msg_id] = {"status": "SEND_SUCCESS", "total": recipients_total, "sent": len(allowed)}
    for fan in allowed:
        world.record(
            account.appid,
            fan.openid,
            "mass",
            {"msg_id": msg_id, "msgtype": msg_type, msg_type: body[msg_type], "targeted": targeted},
        )
    article_urls: dict[str, Any] = {}
    if msg_type == "mpnews":  # its articles are read by some recipients (wxsim/reading.py)
        publication = push_publication(
            world, account, str(body["mpnews"]["media_id"]), allowed, msg_data_id=msg_id * 10, now=now
        )
        # 事件推送群发结果: an article send reports each article's URL (ArticleUrlResult).
        urls = [
            {"ArticleIdx": i, "ArticleUrl": publication.article_url(account.appid, i)}
            for i in range(1, len(publication.articles) + 1)
        ]
        article_urls = {"ArticleUrlResult": {"Count": len(urls), "ResultList": urls}}
    helper = make_openid(account.appid, 0, -1)
    _report_later(
        world,
        account,
        {
            "Event": "MASSSENDJOBFINISH",
            "MsgID": msg_id,
            "Status": "send success",
            "TotalCount": recipients_total,
            "FilterCount": len(allowed),
            "SentCount": len(allowed),
            "ErrorCount": 0,
            **article_urls,
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
        audience = "all" if filt.get("is_to_all") else f"tag:{tag_id}"
        return _mass(request, fans, body, targeted=not filt.get("is_to_all"), audience=audience)


@api("POST", "/cgi-bin/message/mass/send")
def send(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    touser = body.get("touser")
    if not isinstance(touser, list):
        raise fail(e.PARSE_ERROR, "touser is a list of openids")
    if len(touser) < 2:
        raise fail(e.OPENID_LIST_TOO_SHORT)
    if len(touser) > SEND_LIST_MAX:
        raise fail(e.INVALID_LIST_SIZE, f"touser holds at most {SEND_LIST_MAX} openids")
    with request.world.lock:
        fans = [request.world.fan(account, str(o)) for o in touser]
        audience = "openids:" + ",".join(sorted(str(o) for o in touser))
        followers = [f for f in fans if f.following and not f.blacklisted]
        return _mass(request, followers, body, targeted=True, audience=audience)


@api("POST", "/cgi-bin/message/mass/preview")
def preview(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    msg_type = _content(body)
    with request.world.lock:
        if msg_type == "mpnews":
            draft(account, str(body["mpnews"].get("media_id", "")))
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
    with request.world.lock:  # a deleted article is read no more; article_idx 0 or none: all of them
        msg_id, idx = int(request.json()["msg_id"]), int(request.json().get("article_idx", 0) or 0)
        delete_pushed(request.need_account(), msg_id * 10, idx, request.world.clock.now())
    return {"errcode": 0, "errmsg": "ok"}


@api("POST", "/cgi-bin/message/template/send")
def template_send(request: Request) -> dict[str, Any]:
    account = request.need_account()
    if account.account_type != "service" or not account.verified:
        raise fail(e.API_UNAUTHORIZED)
    body = request.json()
    if not isinstance(body.get("data"), dict):
        raise fail(e.INVALID_TEMPLATE)
    with request.world.lock:
        if str(body.get("template_id", "")) not in account.templates:  # the account's list (templates.py)
            raise fail(e.INVALID_TEMPLATE)
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
        if template not in account.subscribe_templates:  # the account's templates (templates.py)
            raise fail(e.INVALID_TEMPLATE)
        fan = request.world.fan(account, str(body.get("touser", "")))
        if fan.consents.get(template, 0) <= 0:
            raise fail(e.USER_REFUSED_SUBSCRIBE)
        fan.consents[template] -= 1  # each acceptance allows one notification
        msg_id = account.next_msg_seq
        account.next_msg_seq += 1
    request.world.record(account.appid, fan.openid, "subscribe_message", dict(body))
    # The result reaches the message server as subscribe_msg_sent_event (订阅通知 / 事件推送).
    item = {"TemplateId": template, "MsgID": msg_id, "ErrorCode": 0, "ErrorStatus": "success"}
    _report_later(
        request.world,
        account,
        {"Event": "subscribe_msg_sent_event", "SubscribeMsgSentEvent": {"List": item}},
        fan.openid,
    )
    return {"errcode": 0, "errmsg": "ok"}
