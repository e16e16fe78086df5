"""WeChat's documented answers where wxsim used to differ, each driven by an independent client.

wechatpy where it has the call; plain HTTP where it has not (quota tooling, typing, stable_token).
The world's clock starts at 2025-10-09 16:53:20 China time (conftest), 25,600 s before a China midnight.
"""

from __future__ import annotations

import time

import httpx
import pytest
from wechatpy.exceptions import WeChatClientException

from wxsim.control_client import WxsimControl, WxsimError
from wxsim.tests.conftest import new_account, token_for
from wxsim.tests.sim_client import SimClient
from wxsim.tests.test_delivery import sink  # noqa: F401 - fixture

TO_CHINA_MIDNIGHT = 25600
TEXT = {"msgtype": "text", "text": {"content": "本周会员日"}}


def _post(http: httpx.Client, path: str, token: str, body: object) -> dict:
    return http.post(path, params={"access_token": token}, json=body).json()


def _client(url: str, account: dict[str, str]) -> SimClient:
    return SimClient(url, account["appid"], account["secret"])


def _errcode(call, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(WeChatClientException) as raised:
        call(*args, **kwargs)
    return int(raised.value.errcode)


# --- quotas --------------------------------------------------------------------------------------


def test_token_quota_is_daily_and_clear_quota_restores_it(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    params = {"grant_type": "client_credential", "appid": account["appid"], "secret": account["secret"]}
    answers = [http.get("/cgi-bin/token", params=params).json() for _ in range(2001)]
    assert all("access_token" in a for a in answers[:2000]) and answers[2000]["errcode"] == 45009
    usage = _post(
        http, "/cgi-bin/openapi/quota/get", answers[1999]["access_token"], {"cgi_path": "/cgi-bin/token"}
    )
    assert usage["quota"] == {"daily_limit": 2000, "used": 2000, "remain": 0}
    # The documented way back from 45009 when the token itself is spent: clear_quota/v2 with the secret.
    cleared = http.post(
        "/cgi-bin/clear_quota/v2", json={"appid": account["appid"], "appsecret": account["secret"]}
    ).json()
    assert cleared == {"errcode": 0, "errmsg": "ok"}
    assert "access_token" in http.get("/cgi-bin/token", params=params).json()
    wrong = http.post("/cgi-bin/clear_quota/v2", json={"appid": account["appid"], "appsecret": "nope"}).json()
    assert wrong["errcode"] == 40125
    # Spent again, and a China midnight later the day's 2000 are back.
    for _ in range(1999):
        http.get("/cgi-bin/token", params=params)
    assert http.get("/cgi-bin/token", params=params).json()["errcode"] == 45009
    control.clock(advance=TO_CHINA_MIDNIGHT - 1)
    assert http.get("/cgi-bin/token", params=params).json()["errcode"] == 45009
    control.clock(advance=1)
    assert "access_token" in http.get("/cgi-bin/token", params=params).json()


def test_quota_get_counts_each_path_against_its_own_limit(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    for _ in range(3):
        http.get("/cgi-bin/user/get", params={"access_token": token})
    usage = _post(http, "/cgi-bin/openapi/quota/get", token, {"cgi_path": "/cgi-bin/user/get"})
    assert usage == {"errcode": 0, "errmsg": "ok", "quota": {"daily_limit": 500, "used": 3, "remain": 497}}
    assert (
        _post(http, "/cgi-bin/openapi/quota/get", token, {"cgi_path": "/cgi-bin/nowhere"})["errcode"] == 76021
    )
    for _ in range(497):
        http.get("/cgi-bin/user/get", params={"access_token": token})
    assert http.get("/cgi-bin/user/get", params={"access_token": token}).json()["errcode"] == 45009
    assert _post(http, "/cgi-bin/clear_quota", token, {"appid": account["appid"]}) == {
        "errcode": 0,
        "errmsg": "ok",
    }
    assert http.get("/cgi-bin/user/get", params={"access_token": token}).json()["total"] == 0


def test_clear_quota_works_ten_times_a_month(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    body = {"appid": account["appid"]}
    assert [_post(http, "/cgi-bin/clear_quota", token, body)["errcode"] for _ in range(11)] == [0] * 10 + [
        48006
    ]
    control.clock(advance=23 * 86400)  # 2025-11-01 in China: a new month
    token = token_for(http, account)
    assert _post(http, "/cgi-bin/clear_quota", token, body)["errcode"] == 0


# --- mass sends ----------------------------------------------------------------------------------


def test_mass_send_by_openid_is_for_verified_service_accounts(control: WxsimControl, wxsim_url: str) -> None:
    cases = {"subscription": {"account_type": "subscription"}, "unverified": {"verified": False}, "ok": {}}
    results = {}
    for name, overrides in cases.items():
        account = new_account(control, **overrides)
        openids = control.add_fans(account["appid"], count=2)
        wc = _client(wxsim_url, account)
        try:
            results[name] = wc.message.send_mass_text(openids, "会员日积分翻倍")["errcode"]
        except WeChatClientException as error:
            results[name] = error.errcode
    assert results == {"subscription": 48001, "unverified": 48001, "ok": 0}


def test_service_accounts_send_to_everyone_once_a_day(control: WxsimControl, wxsim_url: str) -> None:
    account = new_account(control)
    control.add_fans(account["appid"], count=3)
    wc = _client(wxsim_url, account)
    assert wc.message.send_mass_text(None, "早安", is_to_all=True)["errcode"] == 0
    assert _errcode(wc.message.send_mass_text, None, "午安", is_to_all=True) == 45028
    control.clock(advance=TO_CHINA_MIDNIGHT)
    assert wc.message.send_mass_text(None, "晚安", is_to_all=True)["errcode"] == 0


def test_fans_who_refuse_messages_are_filtered_out(
    http: httpx.Client,
    control: WxsimControl,
    sink,  # noqa: F811
) -> None:
    url, state = sink
    account = new_account(control, callback_url=url, mode="plaintext")
    willing = control.add_fans(account["appid"], count=2)
    (refuser,) = control.add_fans(account["appid"], refuses_messages=True)
    sent = _post(
        http,
        "/cgi-bin/message/mass/sendall",
        token_for(http, account),
        {**TEXT, "filter": {"is_to_all": True}},
    )
    assert sent["errcode"] == 0
    received = {e["openid"] for e in control.recorder(appid=account["appid"], kind="mass")}
    assert received == set(willing) and refuser not in received
    deadline = time.monotonic() + 10
    while not state.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    report = state.requests[0][1].decode()
    assert "<TotalCount>3</TotalCount>" in report and "<FilterCount>2</FilterCount>" in report
    assert "<SentCount>2</SentCount>" in report


def test_mass_idempotency_clientmsgid_and_digest(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    openids = control.add_fans(account["appid"], count=3)
    token = token_for(http, account)
    path = "/cgi-bin/message/mass/send"
    first = _post(http, path, token, {**TEXT, "touser": openids[:2]})
    assert first["errcode"] == 0
    # No clientmsgid: WeChat keys the send on a digest of audience and content.
    assert _post(http, path, token, {**TEXT, "touser": openids[1::-1]})["errcode"] == 45066
    control.clock(advance=120)
    token = token_for(http, account)
    repeated = _post(http, path, token, {**TEXT, "touser": openids[:2]})
    assert repeated["errcode"] == 45065 and repeated["msg_id"] == first["msg_id"]
    assert _post(http, path, token, {**TEXT, "touser": openids[1:]})["errcode"] == 0  # another audience
    other = {"msgtype": "text", "text": {"content": "另一条"}}
    assert _post(http, path, token, {**other, "touser": openids[:2]})["errcode"] == 0  # another content
    # The clientmsgid limit is 64 bytes, not 64 characters.
    assert _post(http, path, token, {**TEXT, "touser": openids, "clientmsgid": "群" * 22})["errcode"] == 45067
    assert _post(http, path, token, {**TEXT, "touser": openids, "clientmsgid": "x" * 64})["errcode"] == 0


def test_mass_send_error_codes(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    openids = control.add_fans(account["appid"], count=2)
    token = token_for(http, account)
    assert (
        _post(http, "/cgi-bin/message/mass/send", token, {**TEXT, "touser": openids[:1]})["errcode"] == 40130
    )
    bad_type = {"msgtype": "sticker", "sticker": {"id": 1}, "touser": openids}
    assert _post(http, "/cgi-bin/message/mass/send", token, bad_type)["errcode"] == 40008
    control.act(account["appid"], "text", openids[0], content="在吗")
    custom = {"touser": openids[0], "msgtype": "sticker", "sticker": {"id": 1}}
    assert _post(http, "/cgi-bin/message/custom/send", token, custom)["errcode"] == 40008


# --- users ---------------------------------------------------------------------------------------


def test_remarks_are_30_bytes_and_for_verified_service_accounts(
    control: WxsimControl, wxsim_url: str
) -> None:
    account = new_account(control)
    (openid,) = control.add_fans(account["appid"])
    wc = _client(wxsim_url, account)
    assert _errcode(wc.user.update_remark, openid, "长" * 10) == 40092  # 10 characters, 30 bytes
    assert _errcode(wc.user.update_remark, openid, "a" * 30) == 40092
    wc.user.update_remark(openid, "长" * 9)  # 27 bytes
    assert wc.user.get(openid)["remark"] == "长" * 9
    by_characters = new_account(control, remark_limit_unit="characters")
    (theirs,) = control.add_fans(by_characters["appid"])
    assert _errcode(_client(wxsim_url, by_characters).user.update_remark, theirs, "长" * 30) == 40092
    _client(wxsim_url, by_characters).user.update_remark(theirs, "长" * 29)
    for overrides in ({"account_type": "subscription"}, {"verified": False}):
        other = new_account(control, **overrides)
        (theirs,) = control.add_fans(other["appid"])
        assert _errcode(_client(wxsim_url, other).user.update_remark, theirs, "会员") == 48001


def test_a_refollow_without_a_code_keeps_no_old_scene(control: WxsimControl, wxsim_url: str) -> None:
    account = new_account(control)
    wc = _client(wxsim_url, account)
    control.act(account["appid"], "follow", "oRefollow1", scene="store_7")
    assert wc.user.get("oRefollow1")["qr_scene_str"] == "store_7"
    control.act(account["appid"], "unfollow", "oRefollow1")
    control.act(account["appid"], "follow", "oRefollow1")
    info = wc.user.get("oRefollow1")
    assert (info["subscribe_scene"], info["qr_scene"], info["qr_scene_str"]) == ("ADD_SCENE_OTHERS", 0, "")


def test_unionid_only_for_accounts_bound_to_an_open_platform(control: WxsimControl, wxsim_url: str) -> None:
    unbound = new_account(control, open_platform=False)
    bound = new_account(control)
    (lonely,) = control.add_fans(unbound["appid"])
    (linked,) = control.add_fans(bound["appid"])
    assert "unionid" not in _client(wxsim_url, unbound).user.get(lonely)
    assert all("unionid" not in u for u in _client(wxsim_url, unbound).user.get_batch([lonely]))
    assert _client(wxsim_url, bound).user.get(linked)["unionid"].startswith("u")


# --- customer-service typing ---------------------------------------------------------------------


def test_typing_lasts_15_seconds_and_refuses_bad_commands(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    (openid,) = control.add_fans(account["appid"])
    token = token_for(http, account)
    path = "/cgi-bin/message/custom/typing"
    assert _post(http, path, token, {"touser": openid, "command": "Typing"})["errcode"] == 45080
    control.act(account["appid"], "text", openid, content="在吗")
    assert _post(http, path, token, {"touser": openid, "command": "typing"})["errcode"] == 45072
    assert _post(http, path, token, {"touser": openid, "command": "Typing"})["errcode"] == 0
    control.clock(advance=14)
    assert _post(http, path, token, {"touser": openid, "command": "Typing"})["errcode"] == 45081
    assert _post(http, path, token, {"touser": openid, "command": "CancelTyping"})["errcode"] == 0
    assert _post(http, path, token, {"touser": openid, "command": "Typing"})["errcode"] == 0
    # A message to the fan ends the typing state.
    send = {"touser": openid, "msgtype": "text", "text": {"content": "在的"}}
    assert _post(http, "/cgi-bin/message/custom/send", token, send)["errcode"] == 0
    assert _post(http, path, token, {"touser": openid, "command": "Typing"})["errcode"] == 0


# --- tokens --------------------------------------------------------------------------------------


def test_a_forced_stable_token_refresh_ends_the_previous_token_at_once(
    http: httpx.Client, control: WxsimControl
) -> None:
    account = new_account(control)
    body = {"grant_type": "client_credential", "appid": account["appid"], "secret": account["secret"]}
    old = http.post("/cgi-bin/stable_token", json=body).json()["access_token"]
    new = http.post("/cgi-bin/stable_token", json={**body, "force_refresh": True}).json()["access_token"]
    assert http.get("/cgi-bin/user/get", params={"access_token": old}).json()["errcode"] == 40001
    assert http.get("/cgi-bin/user/get", params={"access_token": new}).json()["total"] == 0
    # /cgi-bin/token still leaves its previous token five minutes.
    classic = token_for(http, account)
    token_for(http, account)
    assert http.get("/cgi-bin/user/get", params={"access_token": classic}).json()["total"] == 0


# --- account permissions and the IP allow-list ---------------------------------------------------


def test_blacklist_and_datacube_need_a_verified_account(control: WxsimControl, wxsim_url: str) -> None:
    unverified = new_account(control, verified=False)
    openids = control.add_fans(unverified["appid"], count=2)
    wc = _client(wxsim_url, unverified)
    assert _errcode(wc.tag.get_black_list) == 48001
    assert _errcode(wc.tag.batch_black_list, openids) == 48001
    assert _errcode(wc.tag.batch_unblack_list, openids) == 48001
    assert _errcode(wc.datacube.get_user_summary, "2025-10-07", "2025-10-08") == 48001
    verified = _client(wxsim_url, new_account(control))
    assert verified.datacube.get_user_summary("2025-10-07", "2025-10-08") == []


def test_calls_from_outside_the_ip_allow_list_answer_40164(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    params = {"grant_type": "client_credential", "appid": account["appid"], "secret": account["secret"]}
    control.faults(account["appid"], ip_allowlist=["203.0.113.7"])
    refused = http.get("/cgi-bin/token", params=params).json()
    assert refused["errcode"] == 40164 and "127.0.0.1" in refused["errmsg"]
    assert http.get("/cgi-bin/user/get", params={"access_token": token}).json()["errcode"] == 40164
    with pytest.raises(WxsimError, match="ip_allowlist"):
        control.faults(account["appid"], ip_allowlist="127.0.0.1")
    control.faults(account["appid"], ip_allowlist=["203.0.113.7", "127.0.0.1"])
    assert http.get("/cgi-bin/user/get", params={"access_token": token}).json()["total"] == 0
