"""Daily API quotas per account, counted by China day, and clear_quota's monthly allowance.

Limits are those WeChat documents for a newly registered account (接口调用频次限制说明):
access_token 2000, menu create 1000 / get 10000 / delete 1000, customer-service messages 500,000,
mass sends ("高级群发接口") 100, QR codes 100,000, user/get 500, user/info 5,000,000, remarks 10,000.
Template messages: 100,000 (模板消息 "调用上限 10 万"); stable_token: 500,000 (getStableAccessToken).
Each account may clear its counters 10 times a calendar month, through the platform or clear_quota
(48006 beyond). Paths without a documented limit are neither counted nor limited; quota/get answers
76021 for them, as it does for a path it does not know.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wxsim import errors as e
from wxsim.errors import fail
from wxsim.model import Account

CHINA = timedelta(hours=8)
CLEARS_A_MONTH = 10
DAILY_LIMITS = {
    "/cgi-bin/token": 2000,
    "/cgi-bin/stable_token": 500000,
    "/cgi-bin/menu/create": 1000,
    "/cgi-bin/menu/get": 10000,
    "/cgi-bin/menu/delete": 1000,
    "/cgi-bin/message/custom/send": 500000,
    "/cgi-bin/message/mass/sendall": 100,
    "/cgi-bin/message/mass/send": 100,
    "/cgi-bin/message/mass/preview": 100,
    "/cgi-bin/message/template/send": 100000,
    "/cgi-bin/qrcode/create": 100000,
    "/cgi-bin/user/get": 500,
    "/cgi-bin/user/info": 5000000,
    "/cgi-bin/user/info/updateremark": 10000,
}


def china_day(ts: float) -> str:
    return (datetime.fromtimestamp(ts, UTC) + CHINA).strftime("%Y-%m-%d")


def _roll(account: Account, now: float) -> None:
    day = china_day(now)
    if account.api_calls_day != day:
        account.api_calls_day, account.api_calls = day, {}


def spend(account: Account, path: str, now: float) -> None:
    """Count one call to `path` today; 45009 once the day's limit is used up (the refused call is free)."""
    limit = DAILY_LIMITS.get(path)
    if limit is None:
        return
    _roll(account, now)
    used = account.api_calls.get(path, 0)
    if used >= limit:
        raise fail(e.API_LIMIT)
    account.api_calls[path] = used + 1


def usage(account: Account, path: str, now: float) -> dict[str, int]:
    limit = DAILY_LIMITS.get(path)
    if limit is None:
        raise fail(e.CGI_PATH_NOT_FOUND)
    _roll(account, now)
    used = account.api_calls.get(path, 0)
    return {"daily_limit": limit, "used": used, "remain": max(0, limit - used)}


def clear(account: Account, now: float) -> None:
    month = china_day(now)[:7]
    this_month = [t for t in account.quota_clears if china_day(t)[:7] == month]
    if len(this_month) >= CLEARS_A_MONTH:
        raise fail(e.QUOTA_CLEARS_USED)
    account.quota_clears = [*this_month, now]
    account.api_calls_day, account.api_calls = china_day(now), {}
