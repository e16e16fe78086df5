"""Matching and deciding without a database: the same code the callback and "try it" run."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from liucun.autoreply.cache import MatcherCache
from liucun.autoreply.decision import FanFacts, decide
from liucun.autoreply.matcher import Matcher, Probe
from liucun.autoreply.validation import RuleInvalid, clean_rule
from liucun.wechat.replies import NewsReply, TextReply

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
_ids = iter(range(1, 10_000))


def rule(**fields: Any) -> dict[str, Any]:
    data = {
        "name": "r",
        "trigger": "keyword",
        "match": "exact",
        "values": ["kw"],
        "replies": [{"type": "text", "text": "ok"}],
    }
    data.update(fields)
    cleaned = clean_rule(data, tag_ids=[7, 8])
    return {"id": fields.get("id", next(_ids)), **cleaned}


def answer(
    rules: list[Mapping[str, Any]],
    probe: Probe,
    fan: FanFacts | None = None,
    *,
    open_now: bool = True,
    welcome: str = "",
) -> tuple[int | None, str]:
    loads: list[bool] = []

    def load(with_tags: bool) -> FanFacts:
        loads.append(with_tags)
        return fan or FanFacts()

    decision = decide(
        Matcher(rules),
        probe,
        now=NOW,
        load_fan=load,
        is_open=lambda: open_now,
        welcome_text=welcome,
        choose=lambda n: 0,
    )
    assert len(loads) <= 1
    reply = decision.reply
    return decision.rule_id, reply.content if isinstance(reply, TextReply) else type(reply).__name__


def text(t: str) -> Probe:
    return Probe("text", text=t)


def test_keyword_modes_and_priority() -> None:
    exact = rule(id=1, values=["积分"], replies=[{"type": "text", "text": "exact"}])
    contains = rule(
        id=2, match="contains", values=["积分", "POINTS"], replies=[{"type": "text", "text": "contains"}]
    )
    regex = rule(
        id=3, match="regex", values=[r"^订单\d{6}$"], priority=5, replies=[{"type": "text", "text": "re"}]
    )
    rules = [exact, contains, regex]
    assert answer(rules, text(" 积分 ")) == (1, "exact")  # same priority: the older rule
    assert answer(rules, text("我的积分怎么查？")) == (2, "contains")
    assert answer(rules, text("check my points")) == (2, "contains")  # case-insensitive
    assert answer(rules, text("订单123456")) == (3, "re")
    assert answer(rules, text("订单1234567")) == (None, "NoneType")
    contains_first = rule(
        id=4, match="contains", values=["积分"], priority=9, replies=[{"type": "text", "text": "p9"}]
    )
    assert answer([*rules, contains_first], text("积分")) == (4, "p9")


def test_follow_welcome_per_scene_then_default_then_account_text() -> None:
    store = rule(id=10, trigger="follow", values=["store_1"], replies=[{"type": "text", "text": "门店1欢迎"}])
    default = rule(
        id=11, trigger="follow", values=[], priority=100, replies=[{"type": "text", "text": "欢迎"}]
    )
    assert answer([store, default], Probe("event.subscribe", scene="store_1")) == (10, "门店1欢迎")
    assert answer([store, default], Probe("event.subscribe", scene="store_2")) == (11, "欢迎")
    assert answer([store, default], Probe("event.subscribe")) == (11, "欢迎")
    assert answer([store], Probe("event.subscribe"), welcome="老欢迎语") == (None, "老欢迎语")
    assert answer([], Probe("event.unsubscribe"), welcome="老欢迎语") == (None, "NoneType")


def test_scan_click_message_type_default_and_out_of_hours() -> None:
    scan = rule(id=20, trigger="scan", values=["store_2"], replies=[{"type": "text", "text": "又见面了"}])
    click = rule(
        id=21, trigger="click", values=["MENU_POINTS"], replies=[{"type": "text", "text": "积分菜单"}]
    )
    image = rule(
        id=22, trigger="message_type", values=["image", "voice"], replies=[{"type": "text", "text": "图"}]
    )
    default = rule(
        id=23, trigger="default", match="", values=[], replies=[{"type": "text", "text": "48小时内回复"}]
    )
    closed = rule(id=24, trigger="out_of_hours", values=[], replies=[{"type": "text", "text": "已下班"}])
    rules = [scan, click, image, default, closed]
    assert answer(rules, Probe("event.scan", scene="store_2")) == (20, "又见面了")
    assert answer(rules, Probe("event.scan", scene="store_9")) == (None, "NoneType")
    assert answer(rules, Probe("event.click", key="MENU_POINTS")) == (21, "积分菜单")
    assert answer(rules, Probe("event.click", key="MENU_OTHER")) == (
        None,
        "NoneType",
    )  # no default for events
    assert answer(rules, Probe("image")) == (22, "图")
    assert answer(rules, text("随便问问")) == (23, "48小时内回复")
    assert answer(rules, text("随便问问"), open_now=False) == (24, "已下班")
    assert answer(rules, Probe("location"), open_now=False) == (24, "已下班")


def test_conditions_read_the_fan_once_and_decide() -> None:
    vip = rule(
        id=30,
        values=["hi"],
        conditions={"tags": [7], "new_within_days": 3},
        priority=1,
        replies=[{"type": "text", "text": "{remark}您好，{attr:store}见"}],
    )
    plain = rule(id=31, values=["hi"], replies=[{"type": "text", "text": "hello"}])
    new_vip = FanFacts(
        id=1, remark="王姐", attributes={"store": "南山店"}, tags=frozenset({7}), followed_at=NOW
    )
    assert answer([vip, plain], text("hi"), new_vip) == (30, "王姐您好，南山店见")
    old = FanFacts(id=1, tags=frozenset({7}), followed_at=NOW - timedelta(days=4))
    assert answer([vip, plain], text("hi"), old) == (31, "hello")
    untagged = FanFacts(id=1, tags=frozenset({8}), followed_at=NOW)
    assert answer([vip, plain], text("hi"), untagged) == (31, "hello")
    # Missing placeholder values render empty.
    assert answer([vip], text("hi"), FanFacts(id=1, tags=frozenset({7}), followed_at=NOW)) == (30, "您好，见")


def test_validity_dates_and_channel_condition() -> None:
    later = rule(id=40, values=["x"], valid_from=(NOW + timedelta(days=1)).isoformat())
    over = rule(id=41, values=["x"], valid_until=NOW.isoformat())
    assert answer([later, over], text("x")) == (None, "NoneType")
    channel = rule(
        id=42,
        trigger="follow",
        values=[],
        conditions={"channels": ["mall"]},
        replies=[{"type": "news", "title": "商场", "url": "https://example.com/a"}],
    )
    assert answer([channel], Probe("event.subscribe", scene="mall")) == (42, "NewsReply")
    assert answer([channel], Probe("event.subscribe", scene="park")) == (None, "NoneType")


def test_sequence_mode_gives_follow_ups_and_handoff() -> None:
    human = rule(
        id=50,
        values=["人工客服"],
        reply_mode="sequence",
        handoff=True,
        replies=[{"type": "text", "text": "正在为您转接"}, {"type": "text", "text": "请描述问题"}],
    )
    decision = decide(
        Matcher([human]), text("人工客服"), now=NOW, load_fan=lambda t: FanFacts(), is_open=lambda: True
    )
    assert decision.rule_id == 50 and decision.handoff is True
    assert isinstance(decision.reply, TextReply) and decision.reply.content == "正在为您转接"
    assert decision.follow_ups == ({"type": "text", "text": "请描述问题"},)
    news = rule(values=["n"], replies=[{"type": "news", "title": "t", "url": "https://example.com"}])
    assert isinstance(
        decide(
            Matcher([news]), text("n"), now=NOW, load_fan=lambda t: FanFacts(), is_open=lambda: True
        ).reply,
        NewsReply,
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"replies": [{"type": "text", "text": "长" * 683}]}, "replies[1].text"),  # 2049 bytes
        (
            {"replies": [{"type": "text", "text": "ok"}, {"type": "text", "text": "{nickname}"}]},
            "replies[2].text",
        ),
        ({"replies": [{"type": "news", "title": "t" * 65, "url": "https://e.com"}]}, "replies[1].title"),
        ({"replies": [{"type": "news", "title": "t", "url": "ftp://e.com"}]}, "replies[1].url"),
        ({"replies": [{"type": "image", "media_id": "bad id"}]}, "replies[1].media_id"),
        ({"replies": [{"type": "music"}]}, "replies[1].type"),
        ({"values": ["a" * 31]}, "values[1]"),
        ({"values": ["ok", ""]}, "values[2]"),
        ({"match": "regex", "values": ["(a"]}, "values[1]"),
        ({"match": "regex", "values": [r"(a)\1"]}, "values[1]"),
        ({"match": "regex", "values": ["a{1000}b{1000}"]}, "values[1]"),
        ({"trigger": "click", "values": ["K" * 129]}, "values[1]"),
        ({"conditions": {"tags": [9]}}, "conditions.tags[1]"),
        ({"replies": []}, "replies"),
        (
            {"valid_from": "2026-12-02T00:00:00+08:00", "valid_until": "2026-12-01T00:00:00+08:00"},
            "valid_until",
        ),
        ({"name": ""}, "name"),
    ],
)
def test_limits_refused_with_the_field_named(change: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleInvalid) as refused:
        rule(**change)
    assert refused.value.field == field
    assert refused.value.message.startswith(field + ":")


def test_text_at_the_byte_limit_is_accepted() -> None:
    assert rule(replies=[{"type": "text", "text": "长" * 682 + "ab"}])["replies"][0]["text"].endswith("ab")


def test_catastrophic_backtracking_pattern_runs_in_linear_time() -> None:
    hostile = rule(id=60, match="regex", values=["(a+)+$"], replies=[{"type": "text", "text": "matched"}])
    matcher = Matcher([hostile])
    attack = "a" * 10_000 + "!"
    started = time.perf_counter()
    found = matcher.candidates(text(attack))
    elapsed = time.perf_counter() - started
    # A backtracking engine needs about 2^10000 steps to give up here; RE2 one pass.
    assert found == []
    assert elapsed < 0.005
    assert [r.id for r in matcher.candidates(text("a" * 10_000))] == [60]


def test_cache_sees_a_version_change_within_the_check_interval() -> None:
    clock = [0.0]
    versions = {1: 1}
    loaded: list[int] = []

    def load(account_id: int, version: int) -> Matcher:
        loaded.append(version)
        return Matcher([rule(values=[f"v{version}"])], version=version)

    first = MatcherCache(check_seconds=1.0, clock=lambda: clock[0], load=load)
    second = MatcherCache(check_seconds=1.0, clock=lambda: clock[0], load=load)
    assert first.get(1, versions.__getitem__).version == 1
    assert second.get(1, versions.__getitem__).version == 1
    versions[1] = 2  # another process saved a rule
    clock[0] = 0.5
    assert first.get(1, versions.__getitem__).version == 1  # not re-checked yet
    clock[0] = 1.01
    assert first.get(1, versions.__getitem__).version == 2
    assert second.get(1, versions.__getitem__).version == 2
    clock[0] = 2.5
    assert first.get(1, versions.__getitem__).version == 2
    assert loaded == [1, 1, 2, 2]  # recompiled only on a change
