"""A batch's answers that need nothing from the database are decided before its transaction; the others
inside it, in order, so a fan's follow and message in one batch answer as they would one by one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from liucun.autoreply import actions as rules
from liucun.autoreply.cache import MatcherCache, matchers
from liucun.autoreply.matcher import Matcher
from liucun.events.models import Event
from liucun.inbound import actions
from liucun.inbound.accounts_cache import CallbackAccount, get_callback_account
from liucun.inbound.actions import Delivery, store_deliveries
from liucun.testing.factories import make_account
from liucun.wechat.messages import message_from_fields

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 in China


def _text(account: CallbackAccount, openid: str, content: str, msg_id: int) -> Delivery:
    fields = {
        "ToUserName": account.original_id,
        "FromUserName": openid,
        "CreateTime": str(int(NOW.timestamp())),
        "MsgType": "text",
        "Content": content,
        "MsgId": str(msg_id),
    }
    return Delivery(account, message_from_fields(fields), NOW)


def _follow(account: CallbackAccount, openid: str, scene: str) -> Delivery:
    fields = {
        "ToUserName": account.original_id,
        "FromUserName": openid,
        "CreateTime": str(int(NOW.timestamp()) - 1),
        "MsgType": "event",
        "Event": "subscribe",
        "EventKey": f"qrscene_{scene}",
    }
    return Delivery(account, message_from_fields(fields), NOW)


def _reply_text(event: Event) -> str:
    start = event.reply.index("<Content><![CDATA[") + len("<Content><![CDATA[")
    return event.reply[start : event.reply.index("]]></Content>")]


@pytest.fixture
def account() -> CallbackAccount:
    row = make_account(welcome_text="欢迎关注！")
    rules.replace_rules(
        "owner",
        row,
        [
            {"name": "价格", "trigger": "keyword", "match": "contains", "values": ["价格"],
             "replies": [{"type": "text", "text": "价格见菜单。"}]},
            {"name": "新粉丝", "trigger": "keyword", "match": "exact", "values": ["新人"],
             "conditions": {"new_within_days": 1}, "replies": [{"type": "text", "text": "新人礼包已发放。"}]},
            {"name": "称呼", "trigger": "keyword", "match": "exact", "values": ["我是谁"],
             "replies": [{"type": "text", "text": "您是{remark}。"}]},
            {"name": "默认", "trigger": "default", "replies": [{"type": "text", "text": "已收到。"}]},
        ],
    )  # fmt: skip
    matchers.forget()
    callback = get_callback_account(row.appid)
    assert callback is not None
    return callback


@pytest.fixture
def in_transaction(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts whose answer was decided inside the transaction."""
    seen: list[str] = []
    decide_inside = actions.passive_reply_for

    def counted(account: CallbackAccount, message: Any, **kwargs: Any) -> Any:
        seen.append(getattr(message, "content", message.kind))
        return decide_inside(account, message, **kwargs)

    monkeypatch.setattr(actions, "passive_reply_for", counted)
    return seen


def test_a_follow_and_a_message_in_one_batch_answer_as_one_by_one(
    account: CallbackAccount, in_transaction: list[str]
) -> None:
    store_deliveries([_text(account, "oWarm", "你好", 90)])  # compiles and checks the rules' version
    in_transaction.clear()
    # The fan is unknown before the batch: the condition "followed within a day" holds only because the
    # follow stored just before in the same transaction set followed_at.
    outcomes = store_deliveries(
        [
            _follow(account, "oNew", "store_1"),
            _text(account, "oNew", "新人", 1),
            _text(account, "oNew", "价格?", 2),
        ]
    )
    assert [isinstance(o, actions.Outcome) and not o.duplicate for o in outcomes] == [True, True, True]
    by_key = {e.dedupe_key: e for e in Event.objects.filter(account_id=account.id)}
    assert _reply_text(by_key["msg:1"]) == "新人礼包已发放。"
    assert _reply_text(by_key["msg:2"]) == "价格见菜单。"
    # The follow's welcome and the plain keyword were decided before the transaction.
    assert in_transaction == ["新人"]
    assert _reply_text(by_key[next(k for k in by_key if k.endswith(":subscribe"))]) == "欢迎关注！"


def test_with_a_fresh_matcher_only_answers_that_read_the_fan_wait_for_the_transaction(
    account: CallbackAccount, in_transaction: list[str]
) -> None:
    store_deliveries([_text(account, "oWarm", "你好", 10)])  # compiles and checks the rules' version
    in_transaction.clear()
    outcomes = store_deliveries(
        [
            _text(account, "oA", "价格多少", 11),
            _text(account, "oA", "新人", 12),
            _text(account, "oB", "我是谁", 13),
            _text(account, "oB", "随便问问", 14),
            _follow(account, "oC", "store_2"),
        ]
    )
    assert all(isinstance(o, actions.Outcome) for o in outcomes)
    # A condition and a placeholder read the fan row: those two only are decided inside.
    assert sorted(in_transaction) == ["我是谁", "新人"]
    replies = {e.dedupe_key: e for e in Event.objects.filter(account_id=account.id)}
    assert _reply_text(replies["msg:11"]) == "价格见菜单。"
    assert _reply_text(replies["msg:12"]) == "已收到。"  # oA never followed: the condition fails
    assert _reply_text(replies["msg:13"]) == "您是。"
    assert _reply_text(replies["msg:14"]) == "已收到。"
    follow = Event.objects.get(account_id=account.id, kind="event.subscribe", openid="oC")
    assert _reply_text(follow) == "欢迎关注！"
    assert [replies[f"msg:{n}"].rule_id is not None for n in (11, 12, 13, 14)] == [True] * 4
    assert outcomes[0].reply == replies["msg:11"].reply  # type: ignore[union-attr]


def test_a_fault_decided_early_is_decided_again_inside_and_logged_once(
    account: CallbackAccount, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from liucun.inbound import reply_policy

    store_deliveries([_text(account, "oWarm", "你好", 20)])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in a rule")

    monkeypatch.setattr(reply_policy, "decide", broken)
    [outcome] = store_deliveries([_text(account, "oF", "价格", 21)])
    assert isinstance(outcome, actions.Outcome)
    assert outcome.reply == ""
    assert caplog.text.count("reply rules failed") == 1


def test_fresh_is_the_cached_matcher_only_within_the_check_interval() -> None:
    clock = [0.0]
    cache = MatcherCache(check_seconds=1.0, clock=lambda: clock[0], load=lambda a, v: Matcher((), version=v))
    assert cache.fresh(7) is None  # never checked: the version must be read first
    checked = cache.get(7, lambda account_id: 3)
    assert cache.fresh(7) is checked
    clock[0] = 0.99
    assert cache.fresh(7) is checked
    clock[0] = 1.0
    assert cache.fresh(7) is None  # due for its version check, which only the transaction makes
