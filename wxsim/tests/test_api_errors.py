"""Direct HTTP tests of wxsim's limits and error codes (each can fail)."""

from __future__ import annotations

import httpx
import pytest

from wxsim.control_client import WxsimControl
from wxsim.tests.conftest import new_account, token_for


def _post(http: httpx.Client, path: str, token: str, body: object) -> dict:
    return http.post(path, params={"access_token": token}, json=body).json()


def test_token_credentials(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    base = {"grant_type": "client_credential", "appid": account["appid"]}
    assert http.get("/cgi-bin/token", params={**base, "secret": "wrong"}).json()["errcode"] == 40125
    assert (
        http.get("/cgi-bin/token", params={**base, "appid": "wx0", "secret": "x"}).json()["errcode"] == 40013
    )
    assert (
        http.get("/cgi-bin/token", params={**base, "grant_type": "x", "secret": "x"}).json()["errcode"]
        == 40002
    )
    good = http.get("/cgi-bin/token", params={**base, "secret": account["secret"]}).json()
    assert good["expires_in"] == 7200 and len(good["access_token"]) > 100
    assert (
        http.get("/cgi-bin/user/get", params={"access_token": "garbage-token-value-123"}).json()["errcode"]
        == 40001
    )
    assert http.get("/cgi-bin/user/get").json()["errcode"] == 41001


def test_token_expiry_and_the_five_minute_overlap(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    first = token_for(http, account)
    control.clock(advance=3600)
    second = token_for(http, account)
    assert http.get("/cgi-bin/user/get", params={"access_token": first}).json()["total"] == 0
    control.clock(advance=299)
    assert "errcode" not in http.get("/cgi-bin/user/get", params={"access_token": first}).json()
    control.clock(advance=2)
    assert http.get("/cgi-bin/user/get", params={"access_token": first}).json()["errcode"] == 40001
    control.clock(advance=7200)
    assert http.get("/cgi-bin/user/get", params={"access_token": second}).json()["errcode"] == 42001


def test_stable_token(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    body = {"grant_type": "client_credential", "appid": account["appid"], "secret": account["secret"]}
    one = http.post("/cgi-bin/stable_token", json=body).json()
    control.clock(advance=600)
    two = http.post("/cgi-bin/stable_token", json=body).json()
    assert one["access_token"] == two["access_token"] and two["expires_in"] == 7200 - 600
    classic = token_for(http, account)  # independent of stable_token
    assert http.post("/cgi-bin/stable_token", json=body).json()["access_token"] == one["access_token"]
    assert classic != one["access_token"]
    forced = http.post("/cgi-bin/stable_token", json={**body, "force_refresh": True}).json()
    assert forced["access_token"] != one["access_token"]
    assert http.post("/cgi-bin/stable_token", json={**body, "force_refresh": True}).json()["errcode"] == 45011
    control.clock(advance=31)
    assert "access_token" in http.post("/cgi-bin/stable_token", json={**body, "force_refresh": True}).json()


def test_user_limits(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    other = new_account(control)
    (theirs,) = control.add_fans(other["appid"])
    token = token_for(http, account)
    openids = control.add_fans(account["appid"], count=3)
    too_many = {"user_list": [{"openid": openids[0]}] * 101}
    assert _post(http, "/cgi-bin/user/info/batchget", token, too_many)["errcode"] == 40032
    assert (
        http.get("/cgi-bin/user/info", params={"access_token": token, "openid": theirs}).json()["errcode"]
        == 49003
    )
    assert (
        _post(http, "/cgi-bin/user/info/updateremark", token, {"openid": openids[0], "remark": "长" * 10})[
            "errcode"
        ]
        == 40092
    )
    escaped = b'{"openid": "%s", "remark": "\\u95e8\\u5e97"}' % openids[0].encode()
    answer = http.post(
        "/cgi-bin/user/info/updateremark", params={"access_token": token}, content=escaped
    ).json()
    assert answer["errcode"] == 40033


def test_user_get_pages_of_ten_thousand(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    control.add_fans(account["appid"], count=10005)
    token = token_for(http, account)
    first = http.get("/cgi-bin/user/get", params={"access_token": token}).json()
    assert (first["total"], first["count"]) == (10005, 10000)
    second = http.get(
        "/cgi-bin/user/get", params={"access_token": token, "next_openid": first["next_openid"]}
    ).json()
    assert second["count"] == 5
    last = http.get(
        "/cgi-bin/user/get", params={"access_token": token, "next_openid": second["next_openid"]}
    ).json()
    assert last["count"] == 0 and last["next_openid"] == ""


def test_tag_limits(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    openids = control.add_fans(account["appid"], count=60)
    create = "/cgi-bin/tags/create"
    assert _post(http, create, token, {"tag": {"name": "长" * 11}})["errcode"] == 45158
    assert _post(http, create, token, {"tag": {"name": "星标组"}})["errcode"] == 45157
    ids = [_post(http, create, token, {"tag": {"name": f"t{i}"}})["tag"]["id"] for i in range(100)]
    assert _post(http, create, token, {"tag": {"name": "one too many"}})["errcode"] == 45056
    assert _post(http, "/cgi-bin/tags/update", token, {"tag": {"id": 2, "name": "x"}})["errcode"] == 45058
    assert _post(http, "/cgi-bin/tags/delete", token, {"tag": {"id": 99999}})["errcode"] == 45159
    tagging = "/cgi-bin/tags/members/batchtagging"
    assert _post(http, tagging, token, {"openid_list": openids[:51], "tagid": ids[0]})["errcode"] == 40032
    for tag_id in ids[:20]:
        assert _post(http, tagging, token, {"openid_list": openids[:1], "tagid": tag_id})["errcode"] == 0
    assert _post(http, tagging, token, {"openid_list": openids[:1], "tagid": ids[20]})["errcode"] == 45059
    black = "/cgi-bin/tags/members/batchblacklist"
    assert _post(http, black, token, {"openid_list": openids[:21]})["errcode"] == 40032
    assert _post(http, black, token, {"openid_list": openids[:2]})["errcode"] == 0
    listed = _post(http, "/cgi-bin/tags/members/getblacklist", token, {"begin_openid": ""})
    assert listed["total"] == 2


def test_customer_service_windows(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    (openid,) = control.add_fans(account["appid"])
    send = {"touser": openid, "msgtype": "text", "text": {"content": "您好"}}
    path = "/cgi-bin/message/custom/send"
    assert _post(http, path, token, send)["errcode"] == 45015
    control.act(account["appid"], "click", openid, key="MENU_1")
    assert [_post(http, path, token, send)["errcode"] for _ in range(4)] == [0, 0, 0, 45047]
    control.clock(advance=61)
    assert _post(http, path, token, send)["errcode"] == 45015
    control.act(account["appid"], "text", openid, content="还在吗")
    assert [_post(http, path, token, send)["errcode"] for _ in range(6)] == [0, 0, 0, 0, 0, 45047]
    control.clock(advance=48 * 3600 + 1)
    token = token_for(http, account)  # the old one expired long ago
    assert _post(http, path, token, send)["errcode"] == 45015
    (refuser,) = control.add_fans(account["appid"], refuses_messages=True)
    control.act(account["appid"], "text", refuser, content="hi")
    assert _post(http, path, token, {**send, "touser": refuser})["errcode"] == 48002
    unverified = new_account(control, verified=False)
    assert _post(http, path, token_for(http, unverified), send)["errcode"] == 48001


def test_faults_on_demand(http: httpx.Client, control: WxsimControl) -> None:
    account = new_account(control)
    token = token_for(http, account)
    control.faults(account["appid"], error_rate=1.0)
    assert http.get("/cgi-bin/user/get", params={"access_token": token}).json()["errcode"] == -1
    control.faults(account["appid"], error_rate=0.0, http5xx_rate=1.0)
    assert http.get("/cgi-bin/user/get", params={"access_token": token}).status_code == 503
    control.clear_faults(account["appid"])
    control.faults(account["appid"], token_storm=True)
    assert http.get("/cgi-bin/user/get", params={"access_token": token}).json()["errcode"] == 40001
    fresh = token_for(http, account)
    assert http.get("/cgi-bin/user/get", params={"access_token": fresh}).json()["total"] == 0
    control.faults(account["appid"], token_storm=False, quota_exhausted=["/cgi-bin/user/get"])
    assert http.get("/cgi-bin/user/get", params={"access_token": fresh}).json()["errcode"] == 45009
    control.clear_faults(account["appid"])
    assert http.get("/cgi-bin/user/get", params={"access_token": fresh}).json()["total"] == 0
    with pytest.raises(Exception, match="unknown faults"):
        control.faults(account["appid"], meteor_strike=True)
