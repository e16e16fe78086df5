"""The CRM endpoints of the REST API: roles, status codes, and 404 for outsiders whatever they send."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from liucun.crm import imports
from liucun.crm.models import ImportJob
from liucun.crm.tests.helpers import MAPPING, csv_text, make_fans, member_rows
from liucun.fans.models import Fan
from liucun.staff.api_tokens import create_api_token
from liucun.staff.models import AuditEntry, Membership, Role
from liucun.testing.factories import make_account, make_account_on_wxsim
from wxsim.control_client import WxsimControl, running_wxsim

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def wxsim_url() -> Iterator[str]:
    with running_wxsim(seed=33) as url:
        yield url


@pytest.fixture
def world(wxsim_url):
    control = WxsimControl(wxsim_url)
    users = get_user_model().objects
    account, other = make_account_on_wxsim(control), make_account()
    operator, outsider = users.create_user("operator"), users.create_user("outsider")
    Membership.objects.create(user=operator, account=account, role=Role.OPERATOR)
    Membership.objects.create(user=outsider, account=other, role=Role.ADMIN)
    openids = control.add_fans(account.appid, count=3)
    for openid in openids:
        Fan.objects.create(account=account, openid=openid, is_following=True)
    keys = {
        "op": create_api_token(operator, "ops", max_role=Role.OPERATOR)[1],
        "agent": create_api_token(operator, "read", max_role=Role.AGENT)[1],
        "outsider": create_api_token(outsider, "x", max_role=Role.ADMIN)[1],
    }
    return account, openids, keys, control


def _auth(key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _upload(client: Client, appid: str, key: str, data: bytes, *, dry_run: bool = True, mapping=MAPPING):
    return client.post(
        f"/api/accounts/{appid}/imports",
        {
            "file": SimpleUploadedFile("会员.csv", data, content_type="text/csv"),
            "mapping": json.dumps(mapping, ensure_ascii=False),
            "dry_run": "true" if dry_run else "false",
        },
        **_auth(key),
    )


def test_upload_check_and_commit(client: Client, world) -> None:
    account, openids, keys, _ = world
    rows = member_rows([*openids, "oStranger"])
    checked = _upload(client, account.appid, keys["op"], csv_text(rows).encode("gbk"))
    assert checked.status_code == 201, checked.content
    body = checked.json()
    assert (body["status"], body["encoding"], body["total_rows"], body["would_update"]) == (
        "validated",
        "gb18030",
        4,
        3,
    )
    assert body["line_errors"] == [{"line": 5, "message": "no fan of this account has openid oStranger"}]
    assert not body["can_commit"]
    url = f"/api/accounts/{account.appid}/imports/{body['id']}"
    assert client.post(f"{url}/commit", **_auth(keys["op"])).status_code == 409

    good = _upload(client, account.appid, keys["op"], csv_text(rows[:-1]).encode("gbk")).json()
    url = f"/api/accounts/{account.appid}/imports/{good['id']}"
    assert client.get(url, **_auth(keys["agent"])).json()["can_commit"] is True
    assert client.post(f"{url}/commit", **_auth(keys["agent"])).status_code == 403
    applied = client.post(f"{url}/commit", **_auth(keys["op"]))
    assert applied.status_code == 200 and applied.json()["status"] == "done"
    assert applied.json()["updated"] == 3
    assert Fan.objects.get(openid=openids[0]).attributes["phone"] == "13800000000"
    listed = client.get(f"/api/accounts/{account.appid}/imports", **_auth(keys["agent"])).json()
    assert [j["id"] for j in listed] == [good["id"], body["id"]]
    assert AuditEntry.objects.get(action="crm.import").actor_label.startswith("api-token:")


def test_upload_refusals(client: Client, world) -> None:
    account, openids, keys, _ = world
    url = f"/api/accounts/{account.appid}/imports"
    data = csv_text(member_rows(openids)).encode()
    assert _upload(client, account.appid, keys["agent"], data).status_code == 403
    assert client.post(url, {"mapping": "{}"}, **_auth(keys["op"])).status_code == 400
    bad_json = client.post(
        url, {"file": SimpleUploadedFile("a.csv", data), "mapping": "{"}, **_auth(keys["op"])
    )
    assert bad_json.status_code == 400 and "JSON" in bad_json.json()["detail"]
    missing = _upload(client, account.appid, keys["op"], b"openid\r\no1\r\n")
    assert missing.status_code == 400 and "no column" in missing.json()["detail"]
    huge = _upload(client, account.appid, keys["op"], b"openid\r\n" + b"o" * (20 * 1024 * 1024))
    assert huge.status_code == 413 and "20 MB" in huge.json()["detail"]
    assert not ImportJob.objects.exists()


def test_a_large_upload_is_accepted_for_a_worker(client: Client, world) -> None:
    account, _, keys, _ = world
    fans = make_fans(account, 6000)
    data = csv_text(member_rows([f.openid for f in fans])).encode()
    assert len(data) > imports.INLINE_MAX_BYTES
    queued = _upload(client, account.appid, keys["op"], data)
    assert queued.status_code == 202 and queued.json()["status"] == "queued"


def test_fans_csv_uses_the_fan_list_filters(client: Client, world) -> None:
    account, openids, keys, _ = world
    Fan.objects.filter(openid=openids[0]).update(is_following=False, attributes={})
    Fan.objects.filter(openid=openids[1]).update(attributes={"store": "静安店"})
    url = f"/api/accounts/{account.appid}/fans.csv"
    assert client.get(url, **_auth(keys["agent"])).status_code == 403
    response = client.get(url, {"following": "true", "ordering": "openid"}, **_auth(keys["op"]))
    assert response.status_code == 200 and response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(f'attachment; filename="fans-{account.appid}-')
    data = b"".join(response.streaming_content)
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert table[0][-1] == "store" and sorted(r[0] for r in table[1:]) == sorted(openids[1:])
    assert AuditEntry.objects.get(action="crm.export").changes["rows"] == 2
    assert client.get(url, {"ordering": "bogus"}, **_auth(keys["op"])).status_code == 400


def test_remark_and_attributes(client: Client, world) -> None:
    account, openids, keys, control = world
    base = f"/api/accounts/{account.appid}/fans/{openids[0]}"
    put = client.put(
        f"{base}/remark", {"remark": "老客户"}, content_type="application/json", **_auth(keys["op"])
    )
    assert put.status_code == 200 and put.json() == {
        "openid": openids[0],
        "remark": "老客户",
        "attributes": {},
    }
    assert next(f for f in control.fans(account.appid) if f["openid"] == openids[0])["remark"] == "老客户"
    too_long = client.put(
        f"{base}/remark", {"remark": "长" * 31}, content_type="application/json", **_auth(keys["op"])
    )
    assert too_long.status_code == 400
    control.faults(account.appid, script=[{"path": "/cgi-bin/user/info/updateremark", "errcode": 43004}])
    refused = client.put(
        f"{base}/remark", {"remark": "x"}, content_type="application/json", **_auth(keys["op"])
    )
    assert refused.status_code == 409 and "no longer follows" in refused.json()["detail"]
    assert Fan.objects.get(openid=openids[0]).remark == "老客户"

    patch = client.patch(
        f"{base}/attributes",
        {"phone": "138 0013 8000", "门店": "静安店"},
        content_type="application/json",
        **_auth(keys["op"]),
    )
    assert patch.status_code == 200 and patch.json()["attributes"] == {
        "phone": "13800138000",
        "门店": "静安店",
    }
    removed = client.patch(
        f"{base}/attributes", {"门店": None}, content_type="application/json", **_auth(keys["op"])
    )
    assert removed.json()["attributes"] == {"phone": "13800138000"}
    bad = client.patch(
        f"{base}/attributes", {"phone": "123"}, content_type="application/json", **_auth(keys["op"])
    )
    assert bad.status_code == 400 and "mainland mobile" in bad.json()["detail"]
    assert (
        client.patch(
            f"{base}/attributes", {"a": "b"}, content_type="application/json", **_auth(keys["agent"])
        ).status_code
        == 403
    )
    nobody = f"/api/accounts/{account.appid}/fans/oNobody/attributes"
    assert (
        client.patch(nobody, {"a": "b"}, content_type="application/json", **_auth(keys["op"])).status_code
        == 404
    )


def test_outsiders_get_404_even_with_a_well_formed_request(client: Client, world) -> None:
    account, openids, keys, _ = world
    base = f"/api/accounts/{account.appid}"
    job = imports.start_import("op", account, csv_text(member_rows(openids)).encode(), MAPPING)
    before = (
        ImportJob.objects.count(),
        AuditEntry.objects.count(),
        list(Fan.objects.values_list("attributes", "remark")),
    )
    data = csv_text(member_rows(openids)).encode()
    json_body = {"content_type": "application/json", **_auth(keys["outsider"])}
    responses = [
        _upload(client, account.appid, keys["outsider"], data, dry_run=False),
        client.get(f"{base}/imports", **_auth(keys["outsider"])),
        client.get(f"{base}/imports/{job.pk}", **_auth(keys["outsider"])),
        client.post(f"{base}/imports/{job.pk}/commit", **_auth(keys["outsider"])),
        client.get(f"{base}/fans.csv", **_auth(keys["outsider"])),
        client.put(f"{base}/fans/{openids[0]}/remark", {"remark": "x"}, **json_body),
        client.patch(f"{base}/fans/{openids[0]}/attributes", {"store": "x"}, **json_body),
    ]
    assert [r.status_code for r in responses] == [404] * len(responses)
    after = (
        ImportJob.objects.count(),
        AuditEntry.objects.count(),
        list(Fan.objects.values_list("attributes", "remark")),
    )
    assert after == before
