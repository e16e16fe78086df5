"""Which account kinds may call which API (公众号接口权限说明): the rest answer 48001.

One table, checked for every call that carries an access_token, so an endpoint cannot forget it:
- `message/mass/send` (by openid list): "订阅号不可用，服务号认证后可用" (群发接口);
- `user/info/updateremark`: "该接口暂时开放给微信认证的服务号" (设置用户备注名);
- blacklist management and every `/datacube/` report: verified accounts only (用户管理 / 数据统计 in the
  permission table list them for verified subscription and service accounts);
- temporary media and permanent materials: "素材管理接口对所有认证的订阅号和服务号开放" (新增临时素材).
Checks that depend on more than the path (custom/send, template/send) stay with their endpoints.
"""

from __future__ import annotations

from wxsim import errors as e
from wxsim.errors import fail
from wxsim.model import Account

VERIFIED_SERVICE = "verified service account"
VERIFIED = "verified account"

RULES = {
    "/cgi-bin/message/mass/send": VERIFIED_SERVICE,
    "/cgi-bin/user/info/updateremark": VERIFIED_SERVICE,
    "/cgi-bin/tags/members/getblacklist": VERIFIED,
    "/cgi-bin/tags/members/batchblacklist": VERIFIED,
    "/cgi-bin/tags/members/batchunblacklist": VERIFIED,
}
PREFIX_RULES = {"/datacube/": VERIFIED, "/cgi-bin/media/": VERIFIED, "/cgi-bin/material/": VERIFIED}


def requirement(path: str) -> str | None:
    if path in RULES:
        return RULES[path]
    return next((need for prefix, need in PREFIX_RULES.items() if path.startswith(prefix)), None)


def check(account: Account, path: str) -> None:
    need = requirement(path)
    if need is None:
        return
    if not account.verified or (need == VERIFIED_SERVICE and account.account_type != "service"):
        raise fail(e.API_UNAUTHORIZED, f"needs a {need}")
