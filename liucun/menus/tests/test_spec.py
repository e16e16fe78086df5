"""What a menu may hold: every button type's fields and WeChat's byte limits, with the button named."""

from __future__ import annotations

from typing import Any

import pytest

from liucun.menus.spec import TYPE_FIELDS, MenuRefused, checked

GOOD_FIELDS = {
    "key": "K1",
    "url": "https://example.cn/a",
    "appid": "wxabcdef0123456789",
    "pagepath": "pages/index",
    "article_id": "ART_1",
}


def _button(kind: str, **over: Any) -> dict[str, Any]:
    button: dict[str, Any] = {"type": kind, "name": "按钮"}
    button.update({f: GOOD_FIELDS[f] for f in TYPE_FIELDS[kind]})
    button.update(over)
    return button


def _refusal(buttons: Any) -> str:
    with pytest.raises(MenuRefused) as caught:
        checked(buttons)
    return caught.value.message


@pytest.mark.parametrize("kind", sorted(TYPE_FIELDS))
def test_every_type_is_accepted_with_exactly_its_fields(kind: str) -> None:
    noise = {"key": "x", "url": "https://x.cn", "article_id": "y"}  # fields of other types are dropped
    stored = checked([{"name": "组", "sub_button": [{**noise, **_button(kind)}]}])
    expected = {"type": kind, "name": "按钮", **{f: GOOD_FIELDS[f] for f in TYPE_FIELDS[kind]}}
    assert stored == [{"name": "组", "sub_button": [expected]}]


@pytest.mark.parametrize("kind", sorted(TYPE_FIELDS))
def test_every_required_field_is_named_when_missing(kind: str) -> None:
    for field in TYPE_FIELDS[kind]:
        message = _refusal([_button("click"), _button(kind, name="第二", **{field: ""})])
        label = {"pagepath": "mini program page", "appid": "mini program AppID", "url": "URL",
                 "article_id": "article id", "key": "key"}[field]  # fmt: skip
        assert message == f"Button 2 “第二”: a “{kind}” button needs its {label}."


def test_name_limits_are_bytes_16_at_the_top_and_60_in_a_group() -> None:
    assert checked([_button("click", name="五个汉字啊")])[0]["name"] == "五个汉字啊"  # 15 bytes
    assert _refusal([_button("click", name="六个汉字啊啊")]) == (
        "Button 1 “六个汉字啊啊”: the name must be 1 to 16 bytes (a Chinese character is 3), is 18."
    )
    twenty = "字" * 20  # 60 bytes: allowed in a group
    assert checked([{"name": "组", "sub_button": [_button("click", name=twenty)]}])
    message = _refusal([{"name": "组", "sub_button": [_button("click"), _button("view", name=twenty + "a")]}])
    assert (
        message
        == f"Button 1.2 “{twenty}a”: the name must be 1 to 60 bytes (a Chinese character is 3), is 61."
    )
    assert _refusal([_button("click", name="  ")]).startswith("Button 1: the name must be 1 to 16 bytes")


def test_key_url_and_counts_are_checked_with_the_button_named() -> None:
    assert checked([_button("click", key="k" * 128)])
    assert _refusal([_button("click"), _button("scancode_push", name="扫码", key="键" * 43)]) == (
        "Button 2 “扫码”: the key must be at most 128 bytes, is 129."
    )
    long_url = "https://e.cn/" + "a" * 1012  # 1025 bytes
    assert _refusal([_button("view", name="官网", url=long_url)]) == (
        "Button 1 “官网”: the URL must be at most 1024 bytes, is 1025."
    )
    assert _refusal([_button("view", name="官网", url="javascript:alert(1)")]) == (
        "Button 1 “官网”: the URL must start with http:// or https://."
    )
    assert _refusal([]) == "A menu has 1 to 3 top buttons."
    assert _refusal([_button("click")] * 4) == "A menu has 1 to 3 top buttons."
    assert (
        _refusal([{"name": "更多", "sub_button": []}])
        == "Button 1 “更多” is a group: give it 1 to 5 sub-buttons."
    )
    six = {"name": "更多", "sub_button": [_button("click")] * 6}
    assert _refusal([_button("click"), six]) == "Button 2 “更多” has 6 sub-buttons; WeChat allows at most 5."
    assert (
        _refusal([{"type": "media", "name": "按钮"}])
        == "Button 1 “按钮”: “media” is not a button type WeChat offers."
    )


def test_read_back_shape_with_a_list_wrapper_is_accepted() -> None:
    wrapped = [{"name": "组", "sub_button": {"list": [_button("click")]}}]
    assert checked(wrapped) == [
        {"name": "组", "sub_button": [{"type": "click", "name": "按钮", "key": "K1"}]}
    ]
