"""The rules every path that writes a remark or attributes shares."""

from __future__ import annotations

import pytest

from liucun.crm import rules


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("13800138000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086-138-0013-8000", "13800138000"),
        ("86 13800138000", "13800138000"),
        ("(+86) 138-0013-8000", "13800138000"),
    ],
)
def test_mainland_mobiles_are_normalised(raw: str, stored: str) -> None:
    assert rules.clean_value("phone", raw) == stored


@pytest.mark.parametrize(
    "raw", ["1380013800", "138001380001", "23800138000", "1.38E+10", "+1 415 555 0100", "电话"]
)
def test_anything_else_is_not_a_phone(raw: str) -> None:
    with pytest.raises(rules.RuleError, match="mainland mobile"):
        rules.clean_value("phone", raw)


def test_other_keys_keep_their_digits_as_written() -> None:
    assert rules.clean_value("customer_id", " 00123 ") == "00123"
    assert rules.clean_value("address", "静安区\r\n南京西路 1 号") == "静安区 南京西路 1 号"


@pytest.mark.parametrize("key", ["store", "会员等级", "last_purchase", "tier-2", "v1.0", "门店_编号"])
def test_keys_may_be_slugs_or_chinese_labels(key: str) -> None:
    assert rules.check_key(key) == key


@pytest.mark.parametrize("key", ["", "_private", "has space", "a/b", "x" * 41, "remark", "openid"])
def test_other_keys_are_refused(key: str) -> None:
    with pytest.raises(rules.RuleError):
        rules.check_key(key)


@pytest.mark.parametrize("value", ["=1+1", "+86", "-5", "@SUM(A1)", "'quoted", "''", "plain", "'plain"])
def test_cells_escaped_for_spreadsheets_come_back_unchanged(value: str) -> None:
    escaped = rules.escape_cell(value)
    assert not escaped.startswith(("=", "+", "-", "@"))
    assert rules.unescape_cell(escaped) == value
