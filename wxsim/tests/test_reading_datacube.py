"""Article reading as fan behaviour, and the datacube statistics: each figure equals one recomputed here
from wxsim's ground truth (GET /wxsim/reads, GET /wxsim/traffic), by an independent implementation."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account, token_for
from wxsim.tests.sim_client import SimClient
from wxsim.tests.test_delivery import sink  # noqa: F401 - fixture
from wxsim.tests.test_publishing import _cover, _post, article

CHINA = timedelta(hours=8)
MONDAY = date(2026, 3, 2)
SCENES = ["公众号消息", "公众号主页", "全部", "聊天会话", "朋友圈", "其他", "推荐", "搜一搜"]


def at_china(day: date, hour: int = 0) -> int:
    return int((datetime(day.year, day.month, day.day, hour, tzinfo=UTC) - CHINA).timestamp())


def day_of(ts: int) -> str:
    return (datetime.fromtimestamp(ts, UTC) + CHINA).date().isoformat()


SPEC = {
    "appid": "wxreading00000001",
    "secret": "s" * 32,
    "token": "tok",
    "encoding_aes_key": "a" * 43,
    "original_id": "gh_reading0001",
}


def _push_and_publish(control: WxsimControl, http: httpx.Client) -> tuple[str, dict, dict]:
    """300 fans; a mass send of a two-article draft at 10:00 on Monday, a free publish at 11:00."""
    control.clock(mode="stepped", set=at_china(MONDAY, 10))
    control.add_account(**SPEC)
    appid = SPEC["appid"]
    control.add_fans(appid, count=300)
    control.set_reading(appid, read_probability=0.3, publish_read_probability=0.1, share_probability=0.2)
    token = token_for(http, SPEC)
    cover = _cover(http, token)
    pushed = _post(http, "/cgi-bin/draft/add", token, {"articles": [article(cover), article(cover, "二")]})
    sent = _post(
        http,
        "/cgi-bin/message/mass/sendall",
        token,
        {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": pushed["media_id"]}},
    )
    assert sent["errcode"] == 0
    control.clock(advance=3600)
    draft = _post(http, "/cgi-bin/draft/add", token, {"articles": [article(cover, "发表")]})
    published = _post(http, "/cgi-bin/freepublish/submit", token, {"media_id": draft["media_id"]})
    assert published["errcode"] == 0
    control.clock(set=at_china(MONDAY + timedelta(days=3), 9))
    return token_for(http, SPEC), sent, published


def test_reading_is_drawn_per_fan_and_deterministic(control: WxsimControl, http: httpx.Client) -> None:
    _push_and_publish(control, http)
    first = control.reads(SPEC["appid"])
    reads = [r for r in first["reads"] if r["kind"] == "read" and not r["openid"].startswith("~")]
    friends = [r for r in first["reads"] if r["kind"] == "read" and r["openid"].startswith("~")]
    pushed = {p["msg_data_id"]: p for p in first["publications"]}
    mass_id = next(m for m, p in pushed.items() if p["notified"])
    lead = {r["openid"] for r in reads if r["msg_data_id"] == mass_id and r["idx"] == 1}
    second = {r["openid"] for r in reads if r["msg_data_id"] == mass_id and r["idx"] == 2}
    # 300 recipients at 0.3 for the first article and 0.3 x 0.3 for the second (fixed for seed 7):
    assert 60 <= len(lead) <= 120 and 10 <= len(second) <= 45
    assert all(r["time"] >= pushed[r["msg_data_id"]]["sent_at"] for r in first["reads"])
    assert {r["scene"] for r in reads if r["msg_data_id"] == mass_id} == {"公众号消息"}
    assert {r["scene"] for r in reads if r["msg_data_id"] != mass_id} == {"公众号主页"}
    assert {r["scene"] for r in first["reads"] if r["kind"] == "share"} == {"聊天会话", "朋友圈"}
    # Friends of sharers read under the share's scene, never before the share.
    shared = {(r["openid"], r["msg_data_id"], r["idx"]): r for r in first["reads"] if r["kind"] == "share"}
    assert friends and {r["scene"] for r in friends} == {"聊天会话", "朋友圈"}
    for friend in friends:
        sharer, idx, _ = friend["openid"][1:].split(":")
        share = shared[(sharer, friend["msg_data_id"], int(idx))]
        assert friend["scene"] == share["scene"] and friend["time"] >= share["time"]
    control.reset(seed=7)
    _push_and_publish(control, http)
    assert control.reads(SPEC["appid"]) == first
    control.reset(seed=8)
    _push_and_publish(control, http)
    assert control.reads(SPEC["appid"])["reads"] != first["reads"]


def _expected_daily(truth: list[dict], day: str, kind: str) -> list[dict]:
    per_article: dict[tuple[int, int], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for r in truth:
        if r["kind"] == kind and day_of(r["time"]) == day:
            per_article[(r["msg_data_id"], r["idx"])][r["scene"]].add(r["openid"])
    items = []
    for (mid, idx), scenes in sorted(per_article.items()):
        everyone = set().union(*scenes.values())
        if kind == "read":
            source = [
                {"user_count": len(everyone) if s == "全部" else len(scenes.get(s, set())), "scene_desc": s}
                for s in SCENES
            ]
            detail = {"read_user": len(everyone), "read_user_source": source}
        else:
            detail = {"share_user": len(everyone)}
        items.append({"ref_date": day, "msgid": f"{mid}_{idx}", "detail": detail})
    return items


def test_article_statistics_equal_the_reading_truth(
    control: WxsimControl, http: httpx.Client, wxsim_url: str
) -> None:
    token, sent, published = _push_and_publish(control, http)
    wc = SimClient(wxsim_url, SPEC["appid"], SPEC["secret"])
    truth = control.reads(SPEC["appid"])
    events = truth["reads"]
    days = [(MONDAY + timedelta(days=i)).isoformat() for i in range(3)]
    for day in days:
        one_day = {"begin_date": day, "end_date": day}
        read = _post(http, "/datacube/getarticleread", token, one_day)
        assert read == {"list": _expected_daily(events, day, "read"), "is_delay": False}
        share = _post(http, "/datacube/getarticleshare", token, one_day)
        assert share == {"list": _expected_daily(events, day, "share"), "is_delay": False}
    assert (
        _post(http, "/datacube/getarticleread", token, {"begin_date": days[0], "end_date": days[1]})[
            "errcode"
        ]
        == 61501
    )  # one day at a time
    assert sum(len(_expected_daily(events, d, "read")) for d in days) >= 4  # the check above saw data

    biz = _post(http, "/datacube/getbizsummary", token, {"begin_date": days[0], "end_date": days[2]})
    for item, day in zip(biz["list"], days, strict=True):
        readers = {r["openid"] for r in events if r["kind"] == "read" and day_of(r["time"]) == day}
        sharers = {r["openid"] for r in events if r["kind"] == "share" and day_of(r["time"]) == day}
        assert item["ref_date"] == day
        assert item["detail"]["read_user"] == len(readers) and item["detail"]["share_user"] == len(sharers)

    total = _post(
        http, "/datacube/getarticletotaldetail", token, {"begin_date": days[0], "end_date": days[0]}
    )
    assert [(i["msgid"], i["publish_type"]) for i in total["list"]] == [
        (f"{sent['msg_data_id']}_1", 0),
        (f"{sent['msg_data_id']}_2", 0),
        (f"{published['msg_data_id']}_1", 1),
    ]
    for item in total["list"]:
        mid, idx = (int(x) for x in item["msgid"].split("_"))
        assert [d["stat_date"] for d in item["detail_list"]] == days  # publish day to yesterday
        for detail in item["detail_list"]:
            upto = [
                r
                for r in events
                if (r["msg_data_id"], r["idx"]) == (mid, idx) and day_of(r["time"]) <= detail["stat_date"]
            ]
            readers = {r["openid"] for r in upto if r["kind"] == "read"}
            assert detail["read_user"] == len(readers)
            assert detail["share_user"] == len({r["openid"] for r in upto if r["kind"] == "share"})
            if mid == sent["msg_data_id"]:
                from_push = {r["openid"] for r in upto if r["kind"] == "read" and r["scene"] == "公众号消息"}
                assert detail["read_delivery_rate"] == round(len(from_push) / 300, 6)

    summary = {"list": wc.datacube.get_article_summary(days[0], days[0])}
    mass_reads = [
        r for r in events if r["msg_data_id"] == sent["msg_data_id"] and day_of(r["time"]) == days[0]
    ]
    expected = Counter((r["idx"], r["kind"]) for r in mass_reads)
    assert [(i["msgid"], i["int_page_read_user"], i["share_user"]) for i in summary["list"]] == [
        (f"{sent['msg_data_id']}_{idx}", expected[(idx, "read")], expected[(idx, "share")])
        for idx in (1, 2)
        if expected[(idx, "read")] or expected[(idx, "share")]
    ]

    user_read = wc.datacube.get_user_read(days[0], days[2])
    for day in days:
        for source, scenes in (
            (99999999, set(SCENES)),
            (0, {"公众号消息"}),
            (1, {"聊天会话"}),
            (2, {"朋友圈"}),
            (4, {"公众号主页"}),
        ):
            readers = [
                r for r in events if r["kind"] == "read" and day_of(r["time"]) == day and r["scene"] in scenes
            ]
            rows = [i for i in user_read if i["ref_date"] == day and i["user_source"] == source]
            assert [(r["int_page_read_user"], r["int_page_read_count"]) for r in rows] == (
                [(len({r["openid"] for r in readers}), len(readers))] if readers else []
            )


def test_deleting_a_mass_send_stops_its_reading(control: WxsimControl, http: httpx.Client) -> None:
    control.clock(set=at_china(MONDAY, 10))
    account = new_account(control)
    control.add_fans(account["appid"], count=200)
    control.set_reading(account["appid"], read_probability=0.5, half_life_hours=6)
    token = token_for(http, account)
    draft = _post(http, "/cgi-bin/draft/add", token, {"articles": [article(_cover(http, token))]})
    sent = _post(
        http,
        "/cgi-bin/message/mass/sendall",
        token,
        {"filter": {"is_to_all": True}, "msgtype": "mpnews", "mpnews": {"media_id": draft["media_id"]}},
    )
    control.clock(advance=3600)
    assert _post(http, "/cgi-bin/message/mass/delete", token, {"msg_id": sent["msg_id"]})["errcode"] == 0
    deleted_at = at_china(MONDAY, 11)
    control.clock(advance=10 * 86400)
    reads = control.reads(account["appid"])["reads"]
    assert reads and max(r["time"] for r in reads) <= deleted_at


def test_reading_parameters_are_checked(control: WxsimControl, wxsim_url: str) -> None:
    account = new_account(control)
    answer = httpx.post(f"{wxsim_url}/wxsim/reading", json={"appid": account["appid"], "read_probability": 2})
    assert answer.status_code == 400 and "between 0 and 1" in answer.json()["error"]
    answer = httpx.post(f"{wxsim_url}/wxsim/reading", json={"appid": account["appid"], "open_rate": 0.1})
    assert answer.status_code == 400 and "open_rate" in answer.json()["error"]
    assert (
        httpx.get(f"{wxsim_url}/wxsim/reading", params={"appid": account["appid"]}).json()["read_probability"]
        == 0.05
    )


def test_message_and_interface_statistics(control: WxsimControl, wxsim_url: str, sink) -> None:  # noqa: F811
    url, _ = sink
    control.clock(set=at_china(MONDAY, 9))
    account = new_account(control, callback_url=url, mode="plaintext")
    appid = account["appid"]
    control.act(appid, "follow", "oA")
    control.act(appid, "follow", "oB")
    for _ in range(3):
        control.act(appid, "text", "oA", content="在吗")
    control.act(appid, "image", "oA")
    control.act(appid, "location", "oA", x=31.2, y=121.5, label="门店")  # not a counted message type
    control.clock(set=at_china(MONDAY, 14))
    for _ in range(7):
        control.act(appid, "text", "oB", content="预约")
    control.clock(set=at_china(MONDAY + timedelta(days=1), 20))
    control.act(appid, "link", "oB", title="t", description="d", url="https://example.com/")
    unreachable = new_account(control, callback_url="http://127.0.0.1:9/callback", mode="plaintext")
    control.http.post(
        "/wxsim/act",
        params={"retries": "0"},
        json={"appid": unreachable["appid"], "action": "follow", "openid": "oX"},
    )
    control.clock(set=at_china(MONDAY + timedelta(days=8), 10))

    wc = SimClient(wxsim_url, appid, account["secret"])
    monday, tuesday = MONDAY.isoformat(), (MONDAY + timedelta(days=1)).isoformat()
    assert wc.datacube.get_upstream_msg(monday, tuesday) == [
        {"ref_date": monday, "msg_type": 1, "msg_user": 2, "msg_count": 10},
        {"ref_date": monday, "msg_type": 2, "msg_user": 1, "msg_count": 1},
        {"ref_date": tuesday, "msg_type": 6, "msg_user": 1, "msg_count": 1},
    ]
    assert wc.datacube.get_upstream_msg_hour(monday, monday) == [
        {"ref_date": monday, "ref_hour": 900, "msg_type": 1, "msg_user": 1, "msg_count": 3},
        {"ref_date": monday, "ref_hour": 900, "msg_type": 2, "msg_user": 1, "msg_count": 1},
        {"ref_date": monday, "ref_hour": 1400, "msg_type": 1, "msg_user": 1, "msg_count": 7},
    ]
    assert wc.datacube.get_upstream_msg_dist(monday, tuesday) == [
        {"ref_date": monday, "count_interval": 1, "msg_user": 1},  # oA: 4 messages
        {"ref_date": monday, "count_interval": 2, "msg_user": 1},  # oB: 7
        {"ref_date": tuesday, "count_interval": 1, "msg_user": 1},
    ]
    assert wc.datacube.get_upstream_msg_week(monday, tuesday) == [
        {"ref_date": monday, "msg_type": 1, "msg_user": 2, "msg_count": 10},
        {"ref_date": monday, "msg_type": 2, "msg_user": 1, "msg_count": 1},
        {"ref_date": monday, "msg_type": 6, "msg_user": 1, "msg_count": 1},
    ]
    assert wc.datacube.get_upstream_msg_month("2026-03-01", "2026-03-09") == []  # March is not over
    assert wc.datacube.get_upstream_msg_dist_week(monday, tuesday) == [
        {"ref_date": monday, "count_interval": 1, "msg_user": 1},  # oA: 4 in the week
        {"ref_date": monday, "count_interval": 2, "msg_user": 1},  # oB: 7 + 1
    ]

    traffic = control.traffic(appid)
    callbacks = traffic["callbacks"]
    assert len(callbacks) == 15 and all(c["delivered"] for c in callbacks)
    by_day: dict[str, list[dict]] = defaultdict(list)
    for c in callbacks:
        by_day[day_of(c["time"])].append(c)
    assert wc.datacube.get_interface_summary(monday, tuesday) == [
        {
            "ref_date": day,
            "callback_count": len(group),
            "fail_count": 0,
            "total_time_cost": sum(c["cost_ms"] for c in group),
            "max_time_cost": max(c["cost_ms"] for c in group),
        }
        for day, group in sorted(by_day.items())
    ]
    hours = wc.datacube.get_interface_summary_hour(monday, monday)
    assert [(h["ref_hour"], h["callback_count"]) for h in hours] == [(900, 7), (1400, 7)]
    failed = SimClient(wxsim_url, unreachable["appid"], unreachable["secret"])
    (only,) = failed.datacube.get_interface_summary(tuesday, tuesday)
    assert only["callback_count"] == 1 and only["fail_count"] == 1


@pytest.mark.parametrize(
    ("path", "span"),
    [
        ("getupstreammsg", 7),
        ("getupstreammsghour", 1),
        ("getupstreammsgdist", 15),
        ("getupstreammsgweek", 30),
        ("getinterfacesummary", 30),
        ("getinterfacesummaryhour", 1),
        ("getuserread", 3),
        ("getarticlesummary", 1),
    ],
)
def test_spans_and_verification(http: httpx.Client, control: WxsimControl, path: str, span: int) -> None:
    control.clock(set=at_china(MONDAY + timedelta(days=60), 10))
    account = new_account(control)
    token = token_for(http, account)
    begin = MONDAY
    ok = {"begin_date": begin.isoformat(), "end_date": (begin + timedelta(days=span - 1)).isoformat()}
    wide = {"begin_date": begin.isoformat(), "end_date": (begin + timedelta(days=span)).isoformat()}
    assert "list" in _post(http, f"/datacube/{path}", token, ok)
    assert _post(http, f"/datacube/{path}", token, wide)["errcode"] == 61501
    today = {"begin_date": (MONDAY + timedelta(days=60)).isoformat()}
    today["end_date"] = today["begin_date"]
    assert _post(http, f"/datacube/{path}", token, today)["errcode"] == 61501
    unverified = new_account(control, verified=False)
    assert _post(http, f"/datacube/{path}", token_for(http, unverified), ok)["errcode"] == 48001
