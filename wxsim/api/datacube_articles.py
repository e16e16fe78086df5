"""The datacube article statistics (图文分析), computed from the reading truth (wxsim/reading.py).

getarticleread, getarticleshare, getbizsummary, getarticletotaldetail (the 2025 发表内容 pages) and
the older getarticlesummary and getuserread; dates, spans and refusals as in wxsim/api/datacube.py.
Not modelled: likes/在看/comments/favourites (always 0), original-page (阅读原文) reads (always 0),
re-reads (a fan reads an article at most once, so every *_count equals its *_user).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from wxsim.api.datacube import china_day, dates, yesterday
from wxsim.api.routing import Request, api
from wxsim.content import Publication, ReadEvent
from wxsim.model import Account
from wxsim.reading import FROM_HOME, FROM_PUSH, SHARE_CHAT, SHARE_MOMENTS, reads_so_far

NEW_ARTICLE_DATA_FROM = date(2025, 11, 1)  # 数据存储起始时间为2025-11-01,之前日期数据无效
ARTICLE_WINDOW_DAYS = 30  # getarticletotaldetail: each article's statistics cover at most 30 days
# scene_desc values and their order as WeChat answers them (a reply quoted in the 开放社区, 2026-03).
SCENES = ("公众号消息", "公众号主页", "全部", "聊天会话", "朋友圈", "其他", "推荐", "搜一搜")
ALL = "全部"
USER_SOURCE_ALL = 99999999  # getuserread: 99999999 全部; 0 会话; 1 好友; 2 朋友圈; 4 历史消息页
OLD_SOURCES = {FROM_PUSH: 0, SHARE_CHAT: 1, SHARE_MOMENTS: 2, FROM_HOME: 4}


def _reads(request: Request) -> list[ReadEvent]:
    with request.world.lock:
        return reads_so_far(request.need_account(), request.world.clock.now())


def _sources(readers: dict[str, set[str]]) -> list[dict[str, Any]]:
    everyone = set().union(*readers.values()) if readers else set()
    return [
        {"user_count": len(everyone) if scene == ALL else len(readers.get(scene, ())), "scene_desc": scene}
        for scene in SCENES
    ]


def _by_article(events: Iterable[ReadEvent], kind: str) -> dict[tuple[int, int], dict[str, set[str]]]:
    found: dict[tuple[int, int], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for event in events:
        if event.kind == kind:
            found[(event.msg_data_id, event.idx)][event.scene].add(event.openid)
    return found


def _users(by_scene: dict[str, set[str]]) -> int:
    return len(set().union(*by_scene.values())) if by_scene else 0


def _daily_articles(
    request: Request, kind: str, detail: Callable[[dict[str, set[str]]], dict[str, Any]]
) -> Any:
    days = dates(request, 1)  # 日期范围仅支持查询1天
    reads = _reads(request)
    items = []
    for d in days:
        if d < NEW_ARTICLE_DATA_FROM:
            continue
        that_day = _by_article((r for r in reads if china_day(r.time) == d), kind)
        items += [
            {"ref_date": d.isoformat(), "msgid": f"{mid}_{idx}", "detail": detail(that_day[(mid, idx)])}
            for mid, idx in sorted(that_day)
        ]
    return {"list": items, "is_delay": False}


@api("POST", "/datacube/getarticleread")
def article_read(request: Request) -> dict[str, Any]:
    return dict(
        _daily_articles(request, "read", lambda s: {"read_user": _users(s), "read_user_source": _sources(s)})
    )


@api("POST", "/datacube/getarticleshare")
def article_share(request: Request) -> dict[str, Any]:
    return dict(_daily_articles(request, "share", lambda s: {"share_user": _users(s)}))


_NOT_MODELLED = {"zaikan_user": 0, "like_user": 0, "comment_count": 0, "collection_user": 0}


@api("POST", "/datacube/getbizsummary")
def biz_summary(request: Request) -> dict[str, Any]:
    days = dates(request, 30)  # span: assumption (the page gives none)
    reads = _reads(request)
    items = []
    for d in days:
        if d < NEW_ARTICLE_DATA_FROM:
            continue
        that_day = [r for r in reads if china_day(r.time) == d]
        readers: dict[str, set[str]] = defaultdict(set)
        for r in that_day:
            if r.kind == "read":
                readers[r.scene].add(r.openid)
        sharers = {r.openid for r in that_day if r.kind == "share"}
        items.append(
            {
                "ref_date": d.isoformat(),
                "detail": {
                    "read_user": _users(readers),
                    "read_user_source": _sources(readers),
                    "share_user": len(sharers),
                    **_NOT_MODELLED,
                },
            }
        )
    return {"list": items, "is_delay": False}


def _publications(account: Account) -> list[Publication]:
    return sorted(account.content.publications.values(), key=lambda p: (p.sent_at, p.msg_data_id))


@api("POST", "/datacube/getarticletotaldetail")
def article_total_detail(request: Request) -> dict[str, Any]:
    days = set(dates(request, 30))  # span: assumption (the page gives none)
    last = yesterday(request)
    reads = _reads(request)
    with request.world.lock:
        publications = [p for p in _publications(request.need_account()) if china_day(p.sent_at) in days]
    by_article: dict[tuple[int, int], list[ReadEvent]] = defaultdict(list)
    for r in sorted(reads, key=lambda r: r.time):
        by_article[(r.msg_data_id, r.idx)].append(r)
    items = []
    for p in publications:
        published = china_day(p.sent_at)
        if published < NEW_ARTICLE_DATA_FROM:
            continue
        stat_days = [published + timedelta(days=i) for i in range(ARTICLE_WINDOW_DAYS)]
        for idx in range(1, len(p.articles) + 1):
            # Each stat_date counts everything from the publish day to that day: one pass, cumulative.
            events, seen = by_article[(p.msg_data_id, idx)], 0
            readers: dict[str, set[str]] = defaultdict(set)
            sharers: set[str] = set()
            details = []
            for stat in (d for d in stat_days if d <= last):
                while seen < len(events) and china_day(events[seen].time) <= stat:
                    event = events[seen]
                    (readers[event.scene] if event.kind == "read" else sharers).add(event.openid)
                    seen += 1
                from_push = len(readers.get(FROM_PUSH, ()))
                details.append(
                    {
                        "stat_date": stat.isoformat(),
                        "read_user": _users(readers),
                        "read_user_source": _sources(readers),
                        "share_user": len(sharers),
                        "read_subscribe_user": 0,
                        "read_delivery_rate": round(from_push / p.target_user, 6) if p.target_user else 0,
                        **_NOT_MODELLED,
                    }
                )
            items.append(
                {
                    "ref_date": published.isoformat(),
                    "msgid": p.msgid(idx),
                    "publish_type": 0 if p.notified else 1,  # 0 已通知 (mass send), 1 未开启通知 (publish)
                    "detail_list": details,
                }
            )
    return {"list": items, "is_delay": False}


@api("POST", "/datacube/getarticlesummary")
def article_summary(request: Request) -> dict[str, Any]:
    """The older per-day figures of mass-sent (群发) articles; no longer maintained by WeChat."""
    days = dates(request, 1)
    reads = _reads(request)
    with request.world.lock:
        publications = {p.msg_data_id: p for p in _publications(request.need_account()) if p.notified}
    items = []
    for d in days:
        that_day = [r for r in reads if china_day(r.time) == d and r.msg_data_id in publications]
        readers, sharers = _by_article(that_day, "read"), _by_article(that_day, "share")
        for mid, idx in sorted(set(readers) | set(sharers)):
            read_users, share_users = _users(readers.get((mid, idx), {})), _users(sharers.get((mid, idx), {}))
            items.append(
                {
                    "ref_date": d.isoformat(),
                    "msgid": f"{mid}_{idx}",
                    "title": publications[mid].articles[idx - 1]["title"],
                    "int_page_read_user": read_users,
                    "int_page_read_count": read_users,
                    "ori_page_read_user": 0,
                    "ori_page_read_count": 0,
                    "share_user": share_users,
                    "share_count": share_users,
                    "add_to_fav_user": 0,
                    "add_to_fav_count": 0,
                }
            )
    return {"list": items}


@api("POST", "/datacube/getuserread")
def user_read(request: Request) -> dict[str, Any]:
    """The older daily reading overview by where readers came from (span 3 days)."""
    days = dates(request, 3)
    reads = _reads(request)
    # A share counts under the source of the sharer's own read of that article.
    scene_of = {(r.openid, r.msg_data_id, r.idx): r.scene for r in reads if r.kind == "read"}
    items = []
    for d in days:
        that_day = [r for r in reads if china_day(r.time) == d]
        if not that_day:
            continue
        for source in (USER_SOURCE_ALL, 0, 1, 2, 4):

            def counts(event: ReadEvent, source: int = source) -> bool:
                scene = (
                    event.scene
                    if event.kind == "read"
                    else scene_of.get((event.openid, event.msg_data_id, event.idx), "")
                )
                return source == USER_SOURCE_ALL or OLD_SOURCES.get(scene) == source

            mine = [r for r in that_day if counts(r)]
            read_events = [r for r in mine if r.kind == "read"]
            share_events = [r for r in mine if r.kind == "share"]
            if source != USER_SOURCE_ALL and not mine:
                continue
            items.append(
                {
                    "ref_date": d.isoformat(),
                    "user_source": source,
                    "int_page_read_user": len({r.openid for r in read_events}),
                    "int_page_read_count": len(read_events),
                    "ori_page_read_user": 0,
                    "ori_page_read_count": 0,
                    "share_user": len({r.openid for r in share_events}),
                    "share_count": len(share_events),
                    "add_to_fav_user": 0,
                    "add_to_fav_count": 0,
                }
            )
    return {"list": items}
