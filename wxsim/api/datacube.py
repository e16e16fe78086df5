"""The datacube statistics (数据统计), every figure computed from wxsim's ground truth by China day.

- users (getusersummary, getusercumulate): the follow/unfollow truth (World.truth);
- articles (getarticleread, getarticleshare, getbizsummary, getarticletotaldetail, and the older
  getarticlesummary, getuserread): the reading truth, in wxsim/api/datacube_articles.py;
- messages (getupstreammsg*): what fans sent (Traffic.upstream, from wxsim/actions.py);
- interface (getinterfacesummary*): how callbacks went (Traffic.callbacks, from wxsim/delivery.py).

Shapes and spans from the official pages (用户分析, 图文分析 and the 2025 发表内容 pages api_getarticleread,
api_getarticleshare, api_getbizsummary, api_getarticletotaldetail, 消息分析, 接口分析) and WxJava's
WxDataCube* beans. The end date is at most yesterday; a wider span than the page allows, or a bad date,
is 61501. Datacube is for verified accounts (48001 otherwise, wxsim/api/permissions.py). Spans
marked "assumption" are not on the pages. Not modelled: the 08:00 availability of yesterday.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, api
from wxsim.errors import fail

CHINA = timedelta(hours=8)
UPSTREAM_TYPES = {"text": 1, "image": 2, "voice": 3, "video": 4, "shortvideo": 4, "link": 6}


def china_day(ts: float) -> date:
    return (datetime.fromtimestamp(ts, UTC) + CHINA).date()


def china_hour(ts: float) -> int:
    return (datetime.fromtimestamp(ts, UTC) + CHINA).hour


def dates(request: Request, span: int) -> list[date]:
    body = request.json()
    try:
        begin = date.fromisoformat(str(body.get("begin_date")))
        end = date.fromisoformat(str(body.get("end_date")))
    except ValueError:
        raise fail(e.INVALID_DATE_RANGE) from None
    if end < begin or end > yesterday(request) or (end - begin).days >= span:
        raise fail(e.INVALID_DATE_RANGE, f"at most {span} days ending yesterday")
    return [begin + timedelta(days=i) for i in range((end - begin).days + 1)]


def yesterday(request: Request) -> date:
    return china_day(request.world.clock.now()) - timedelta(days=1)


# --- users ------------------------------------------------------------------------------------------


@api("POST", "/datacube/getusersummary")
def user_summary(request: Request) -> dict[str, Any]:
    account = request.need_account()
    days = dates(request, 7)
    news: Counter[tuple[date, int]] = Counter()
    cancels: Counter[tuple[date, int]] = Counter()
    source_of: dict[str, int] = {}
    with request.world.lock:
        for t in request.world.truth:
            if t["appid"] != account.appid:
                continue
            day = china_day(t["time"])
            if t["event"] == "follow":
                source_of[t["openid"]] = t["user_source"]
                news[(day, t["user_source"])] += 1
            else:
                cancels[(day, source_of.get(t["openid"], 0))] += 1
    items = [
        {
            "ref_date": d.isoformat(),
            "user_source": source,
            "new_user": news[(d, source)],
            "cancel_user": cancels[(d, source)],
        }
        for d in days
        for source in sorted({s for (day, s) in list(news) + list(cancels) if day == d})
    ]
    return {"list": items}


@api("POST", "/datacube/getusercumulate")
def user_cumulate(request: Request) -> dict[str, Any]:
    account = request.need_account()
    days = dates(request, 7)
    with request.world.lock:
        events = sorted((t["time"], t["event"]) for t in request.world.truth if t["appid"] == account.appid)
    result, total, i = [], 0, 0
    for d in days:
        while i < len(events) and china_day(events[i][0]) <= d:
            total += 1 if events[i][1] == "follow" else -1
            i += 1
        result.append({"ref_date": d.isoformat(), "cumulate_user": total})
    return {"list": result}


# --- messages ---------------------------------------------------------------------------------------


def _upstream(request: Request) -> list[tuple[int, str, int]]:
    """(time, openid, msg_type code) of every counted fan message; location messages have no code."""
    traffic = request.need_account().traffic
    with traffic.lock:
        return [
            (u.time, u.openid, UPSTREAM_TYPES[u.msg_type])
            for u in traffic.upstream
            if u.msg_type in UPSTREAM_TYPES
        ]


def _week(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _month(d: date) -> date:
    return d.replace(day=1)


def _periods(days: list[date], label: Callable[[date], date], today: date) -> list[date]:
    """Week/month data carry the period's first day (Monday, the 1st) and exist once the period is over."""
    starts = sorted({label(d) for d in days})
    return [s for s in starts if days[0] <= s <= days[-1] and label(today) != s]


def _msg_items(
    messages: list[tuple[int, str, int]], key: Callable[[int], Any], wanted: set[Any]
) -> dict[tuple[Any, int], list[str]]:
    found: dict[tuple[Any, int], list[str]] = defaultdict(list)
    for at, openid, code in messages:
        k = key(at)
        if k in wanted:
            found[(k, code)].append(openid)
    return found


def _msg_list(
    found: dict[tuple[Any, int], list[str]], ref: Callable[[Any], dict[str, Any]]
) -> dict[str, Any]:
    return {
        "list": [
            {**ref(k), "msg_type": code, "msg_user": len(set(senders)), "msg_count": len(senders)}
            for (k, code), senders in sorted(found.items())
        ]
    }


@api("POST", "/datacube/getupstreammsg")
def upstream(request: Request) -> dict[str, Any]:
    days = set(dates(request, 7))
    found = _msg_items(_upstream(request), china_day, days)
    return _msg_list(found, lambda d: {"ref_date": d.isoformat()})


@api("POST", "/datacube/getupstreammsghour")
def upstream_hour(request: Request) -> dict[str, Any]:
    days = set(dates(request, 1))
    found = _msg_items(
        _upstream(request), lambda t: (china_day(t), china_hour(t)), {(d, h) for d in days for h in range(24)}
    )
    return _msg_list(found, lambda k: {"ref_date": k[0].isoformat(), "ref_hour": k[1] * 100})


def _upstream_period(request: Request, label: Callable[[date], date]) -> dict[str, Any]:
    days = dates(request, 30)
    periods = set(_periods(days, label, china_day(request.world.clock.now())))
    found = _msg_items(_upstream(request), lambda t: label(china_day(t)), periods)
    return _msg_list(found, lambda d: {"ref_date": d.isoformat()})


@api("POST", "/datacube/getupstreammsgweek")
def upstream_week(request: Request) -> dict[str, Any]:
    return _upstream_period(request, _week)


@api("POST", "/datacube/getupstreammsgmonth")
def upstream_month(request: Request) -> dict[str, Any]:
    return _upstream_period(request, _month)


def _interval(count: int) -> int:
    """count_interval: 1 for 1-5 messages, 2 for 6-10, 3 for more (0, "none", is never listed)."""
    return 1 if count <= 5 else 2 if count <= 10 else 3


def _dist(request: Request, key: Callable[[int], date], wanted: set[date]) -> dict[str, Any]:
    per_fan: Counter[tuple[date, str]] = Counter()
    for at, openid, _code in _upstream(request):
        k = key(at)
        if k in wanted:
            per_fan[(k, openid)] += 1
    buckets: Counter[tuple[date, int]] = Counter((k, _interval(n)) for (k, _o), n in per_fan.items())
    return {
        "list": [
            {"ref_date": k.isoformat(), "count_interval": interval, "msg_user": users}
            for (k, interval), users in sorted(buckets.items())
        ]
    }


@api("POST", "/datacube/getupstreammsgdist")
def upstream_dist(request: Request) -> dict[str, Any]:
    return _dist(request, china_day, set(dates(request, 15)))


@api("POST", "/datacube/getupstreammsgdistweek")
def upstream_dist_week(request: Request) -> dict[str, Any]:
    days = dates(request, 30)
    periods = set(_periods(days, _week, china_day(request.world.clock.now())))
    return _dist(request, lambda t: _week(china_day(t)), periods)


@api("POST", "/datacube/getupstreammsgdistmonth")
def upstream_dist_month(request: Request) -> dict[str, Any]:
    days = dates(request, 30)
    periods = set(_periods(days, _month, china_day(request.world.clock.now())))
    return _dist(request, lambda t: _month(china_day(t)), periods)


# --- interface --------------------------------------------------------------------------------------


def _interface(request: Request, span: int, hourly: bool) -> dict[str, Any]:
    days = set(dates(request, span))
    traffic = request.need_account().traffic
    with traffic.lock:
        callbacks = list(traffic.callbacks)
    groups: dict[tuple[date, int], list[Any]] = defaultdict(list)
    for c in callbacks:
        if china_day(c.time) in days:
            groups[(china_day(c.time), china_hour(c.time) if hourly else -1)].append(c)
    items = []
    for (d, hour), group in sorted(groups.items()):
        item: dict[str, Any] = {"ref_date": d.isoformat()}
        if hourly:
            item["ref_hour"] = hour * 100
        item.update(
            callback_count=len(group),
            fail_count=sum(1 for c in group if not c.delivered),
            total_time_cost=sum(c.cost_ms for c in group),
            max_time_cost=max(c.cost_ms for c in group),
        )
        items.append(item)
    return {"list": items}


@api("POST", "/datacube/getinterfacesummary")
def interface_summary(request: Request) -> dict[str, Any]:
    return _interface(request, 30, hourly=False)


@api("POST", "/datacube/getinterfacesummaryhour")
def interface_summary_hour(request: Request) -> dict[str, Any]:
    return _interface(request, 1, hourly=True)
