"""Template libraries: template messages (模板消息) and subscription notifications (订阅通知).

Template messages: an account sets its two industries (`template/api_set_industry`, ids 1..41, 40102
otherwise; a change at most once a month, 43100), then adds templates from the public library by short id
(`api_add_template`, 25 at most: 45026; a template of an industry the account did not choose: 45027),
lists (`get_all_private_template`) and deletes them (`del_private_template`). `message/template/send`
only takes a template_id of the account's list (40037).

Subscription notifications (`/wxaapi/newtmpl/*`): `addtemplate {tid, kidList, sceneDesc}` picks 2 to 5
keywords of a public title (200020), with a scene description of at most 15 characters (200021), up to 50
templates an account (200012); an unknown tid is 200014. `message/subscribe/bizsend` only takes an
account's priTmplId (40037).

The public libraries are WeChat's; wxsim carries a few entries of its own (TM00015 is the short id of
WeChat's own api_add_template example). `POST /wxsim/templates` adds one straight to an account, as an
operator does in the web console.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, Response, api, json_response
from wxsim.errors import WeChatError, fail
from wxsim.model import Account

OK = {"errcode": 0, "errmsg": "ok"}
CHINA = timedelta(hours=8)
PRIVATE_TEMPLATES_MAX = 25
SUBSCRIBE_TEMPLATES_MAX = 50
SCENE_DESC_MAX = 15
KEYWORDS_MIN, KEYWORDS_MAX = 2, 5
INDUSTRIES = {
    1: ("IT科技", "互联网|电子商务"),
    2: ("IT科技", "IT软件与服务"),
    10: ("餐饮", "餐饮"),
    11: ("酒店旅游", "酒店"),
    16: ("教育", "培训"),
    22: ("医药护理", "医药医疗"),
    31: ("消费品", "消费品"),
    41: ("其它", "其它"),
}
INDUSTRY_IDS = range(1, 42)  # WeChat's industry codes run from 1 to 41

# Short id -> (industry id, title, content). wxsim's own entries, in WeChat's shape.
LIBRARY = {
    "TM00015": (
        1,
        "订单支付成功",
        "{{first.DATA}}\n支付金额：{{orderMoneySum.DATA}}\n商品信息：{{orderProductName.DATA}}\n{{Remark.DATA}}",
    ),
    "WXSIM_BOOKING": (
        10,
        "预约成功通知",
        "{{first.DATA}}\n预约时间：{{keyword1.DATA}}\n门店：{{keyword2.DATA}}\n{{remark.DATA}}",
    ),
    "WXSIM_POINTS": (
        31,
        "积分变动提醒",
        "{{first.DATA}}\n变动积分：{{keyword1.DATA}}\n当前积分：{{keyword2.DATA}}\n{{remark.DATA}}",
    ),
}
# tid -> (title, {kid: (keyword, value rule)}). wxsim's own entries, in WeChat's shape.
SUBSCRIBE_LIBRARY = {
    563: (
        "订单发货提醒",
        {
            1: ("订单编号", "character_string"),
            2: ("物流公司", "thing"),
            3: ("快递单号", "character_string"),
            4: ("发货时间", "time"),
        },
    ),
    1024: (
        "预约结果通知",
        {1: ("预约项目", "thing"), 2: ("预约时间", "time"), 3: ("门店", "thing"), 4: ("备注", "thing")},
    ),
}


def _template_id(account: Account, seed: str) -> str:
    return hashlib.sha256(f"{account.appid}:{seed}".encode()).hexdigest()[:43]


def _month(ts: float) -> str:
    return (datetime.fromtimestamp(ts, UTC) + CHINA).strftime("%Y-%m")


def add_private_template(account: Account, short_id: str, now: float) -> str:
    entry = LIBRARY.get(short_id)
    if entry is None:
        raise fail(e.INVALID_TEMPLATE, "template_id_short")
    if len(account.templates) >= PRIVATE_TEMPLATES_MAX:
        raise fail(e.TEMPLATE_LIMIT)
    industry, title, content = entry
    if account.industry is None or industry not in account.industry:
        raise fail(e.TEMPLATE_INDUSTRY_CONFLICT)
    template_id = _template_id(account, f"{short_id}:{now}:{len(account.templates)}")
    first, second = INDUSTRIES.get(industry, ("其它", "其它"))
    account.templates[template_id] = {
        "template_id": template_id,
        "title": title,
        "primary_industry": first,
        "deputy_industry": second,
        "content": content,
        "example": "",
    }
    return template_id


def add_subscribe_template(account: Account, tid: Any, kids: Any, scene: Any) -> str:
    entry = SUBSCRIBE_LIBRARY.get(tid) if isinstance(tid, int) else None
    if entry is None and isinstance(tid, str) and tid.isdigit():
        entry = SUBSCRIBE_LIBRARY.get(int(tid))
    if entry is None:
        raise fail(e.SUB_INVALID_TID)
    title, keywords = entry
    if (
        not isinstance(kids, list)
        or not KEYWORDS_MIN <= len(kids) <= KEYWORDS_MAX
        or len(set(map(str, kids))) != len(kids)
        or not all(isinstance(k, int) and k in keywords for k in kids)
    ):
        raise fail(e.SUB_INVALID_KIDLIST)
    if not isinstance(scene, str) or not 0 < len(scene) <= SCENE_DESC_MAX:
        raise fail(e.SUB_INVALID_SCENE)
    if len(account.subscribe_templates) >= SUBSCRIBE_TEMPLATES_MAX:
        raise fail(e.SUB_TEMPLATE_LIMIT)
    template_id = _template_id(account, f"sub:{tid}:{kids}:{len(account.subscribe_templates)}")
    content = "\n".join(f"{keywords[k][0]}:{{{{{keywords[k][1]}{k}.DATA}}}}" for k in kids)
    account.subscribe_templates[template_id] = {
        "priTmplId": template_id,
        "title": title,
        "content": content,
        "example": "",
        "type": 2,  # one-time subscription (一次性订阅)
    }
    return template_id


# --- template messages ---------------------------------------------------------------------------


@api("POST", "/cgi-bin/template/api_set_industry")
def set_industry(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    try:
        first, second = int(str(body.get("industry_id1"))), int(str(body.get("industry_id2")))
    except (TypeError, ValueError):
        raise fail(e.INVALID_INDUSTRY) from None
    if first not in INDUSTRY_IDS or second not in INDUSTRY_IDS:
        raise fail(e.INVALID_INDUSTRY)
    now = request.world.clock.now()
    with request.world.lock:
        changed_at = account.industry_changed_at
        if changed_at is not None and _month(changed_at) == _month(now):
            raise fail(e.INDUSTRY_CHANGE_TOO_SOON)
        account.industry, account.industry_changed_at = (first, second), now
    return OK


@api("GET", "/cgi-bin/template/get_industry")
def get_industry(request: Request) -> dict[str, Any]:
    account = request.need_account()
    if account.industry is None:
        return {"primary_industry": {}, "secondary_industry": {}}
    names = [INDUSTRIES.get(i, ("其它", "其它")) for i in account.industry]
    return {
        "primary_industry": {"first_class": names[0][0], "second_class": names[0][1]},
        "secondary_industry": {"first_class": names[1][0], "second_class": names[1][1]},
    }


@api("POST", "/cgi-bin/template/api_add_template")
def api_add_template(request: Request) -> dict[str, Any]:
    account = request.need_account()
    short_id = str(request.json().get("template_id_short", ""))
    with request.world.lock:
        template_id = add_private_template(account, short_id, request.world.clock.now())
    return {**OK, "template_id": template_id}


@api("GET", "/cgi-bin/template/get_all_private_template")
def get_all_private_template(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        return {"template_list": [dict(t) for t in account.templates.values()]}


@api("POST", "/cgi-bin/template/del_private_template")
def del_private_template(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        if account.templates.pop(str(request.json().get("template_id", "")), None) is None:
            raise fail(e.INVALID_TEMPLATE)
    return OK


# --- subscription notifications ------------------------------------------------------------------


@api("POST", "/wxaapi/newtmpl/addtemplate")
def add_subscribe(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    with request.world.lock:
        template_id = add_subscribe_template(
            account, body.get("tid"), body.get("kidList"), body.get("sceneDesc")
        )
    return {**OK, "priTmplId": template_id}


@api("GET", "/wxaapi/newtmpl/gettemplate")
def get_subscribe(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        return {**OK, "data": [dict(t) for t in account.subscribe_templates.values()]}


@api("POST", "/wxaapi/newtmpl/deltemplate")
def del_subscribe(request: Request) -> dict[str, Any]:
    account = request.need_account()
    with request.world.lock:
        if account.subscribe_templates.pop(str(request.json().get("priTmplId", "")), None) is None:
            raise fail(e.INVALID_TEMPLATE)
    return OK


# --- control -------------------------------------------------------------------------------------


@api("POST", "/wxsim/templates", token=False, faults=False)
def control_add(request: Request) -> Response:
    """`{appid, kind: "template", template_id_short}` or `{appid, kind: "subscribe", tid, kidList,
    sceneDesc}`: the template an operator picks in the web console. Answers the new id."""
    body = request.json()
    account = request.world.account(str(body.get("appid", "")))
    kind = body.get("kind", "template")
    now = request.world.clock.now()
    try:
        return _control_add(account, kind, body, now, request)
    except WeChatError as error:
        return json_response({"error": error.errmsg, "errcode": error.errcode}, 400)


def _control_add(account: Account, kind: Any, body: dict[str, Any], now: float, request: Request) -> Response:
    with request.world.lock:
        if kind == "template":
            entry = LIBRARY.get(str(body.get("template_id_short", "")))
            if entry is None:
                return json_response({"error": f"template_id_short is one of {', '.join(LIBRARY)}"}, 400)
            if account.industry is None or entry[0] not in account.industry:
                account.industry = (entry[0], account.industry[0] if account.industry else entry[0])
            template_id = add_private_template(account, str(body["template_id_short"]), now)
        elif kind == "subscribe":
            template_id = add_subscribe_template(
                account, body.get("tid"), body.get("kidList"), body.get("sceneDesc")
            )
        else:
            return json_response({"error": "kind is template or subscribe"}, 400)
    return json_response({"template_id": template_id}, 201)
