"""Fan lists as CSV: what Excel needs, streaming, the audit entry, and a round trip through an import."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from liucun.crm import exports, imports
from liucun.crm.models import ImportStatus
from liucun.crm.tests.helpers import make_fans
from liucun.fans.models import Fan
from liucun.fans.queries import FanFilter
from liucun.staff.models import AuditEntry
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db
T = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def _export(account, filt: FanFilter | None = None, ordering: str = "openid") -> tuple[bytes, list[str]]:
    chunks = list(exports.fan_csv_rows("exporter", account, filt or FanFilter(), ordering))
    return "".join(chunks).encode("utf-8"), chunks


def _table(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_the_csv_has_a_bom_a_header_and_one_column_per_attribute() -> None:
    account = make_account()
    Fan.objects.create(
        account=account,
        openid="o1",
        unionid="u1",
        is_following=True,
        channel="store_1",
        followed_at=T,
        remark="VIP 张女士",
        attributes={"store": "静安店", "phone": "13800138000"},
    )
    Fan.objects.create(account=account, openid="o2", attributes={"会员等级": "金卡", "note": "=HYPERLINK(1)"})
    Fan.objects.create(account=make_account(), openid="o3", attributes={"secret_other_account": "x"})
    table = _table(_export(account)[0])
    assert table[0] == [
        "openid",
        "unionid",
        "following",
        "channel",
        "followed_at",
        "last_interaction_at",
        "remark",
        "note",
        "phone",
        "store",
        "会员等级",
    ]
    assert table[1] == [
        "o1",
        "u1",
        "1",
        "store_1",
        "2026-05-01 10:00:00+08:00",
        "",
        "VIP 张女士",
        "",
        "13800138000",
        "静安店",
        "",
    ]
    assert table[2] == ["o2", "", "0", "", "", "", "", "'=HYPERLINK(1)", "", "", "金卡"]
    assert len(table) == 3


def test_filters_and_ordering_apply_and_the_export_is_audited() -> None:
    account = make_account()
    make_fans(account, 30, followed_at=T)
    Fan.objects.filter(openid__in=["oF000003", "oF000007"]).update(is_following=False)
    table = _table(_export(account, FanFilter(following=False), "openid")[0])
    assert [row[0] for row in table[1:]] == ["oF000003", "oF000007"]
    entry = AuditEntry.objects.get(action="crm.export")
    assert (entry.actor_label, entry.account, entry.target) == ("exporter", account, "fans.csv")
    assert entry.changes["rows"] == 2 and entry.changes["filter"] == {"following": False}
    with pytest.raises(ValueError, match="ordering"):
        exports.fan_csv_rows("exporter", account, FanFilter(), "nickname")


def test_large_lists_stream_in_chunks() -> None:
    account = make_account()
    make_fans(account, 1200, attributes={"store": "静安店"})
    rows = exports.fan_csv_rows("exporter", account, FanFilter(), "openid")
    assert not isinstance(rows, list | str)
    data, chunks = _export(account)
    assert len(chunks) == 1 + 3  # header, then 500 + 500 + 200 rows
    assert len(_table(data)) == 1201


def test_an_export_imported_back_changes_nothing() -> None:
    account = make_account()
    make_fans(account, 40, followed_at=T, last_interaction_at=T + timedelta(hours=1))
    for i, fan in enumerate(Fan.objects.filter(account=account).order_by("id")):
        fan.attributes = {
            "store": ["静安店", "徐汇店", "浦东, 陆家嘴店"][i % 3],
            "phone": f"139{i:08d}",
            "note": ['他说"好的"', "-5 折扣", "'quoted", "=1+1"][i % 4],
        }
        if i % 5 == 0:
            fan.attributes["会员等级"] = "金卡"
        fan.save()
    Fan.objects.filter(openid="oF000001").update(is_following=False, attributes={})  # left, erased
    before = dict(Fan.objects.values_list("openid", "attributes"))
    data, _ = _export(account)
    columns = ["note", "phone", "store", "会员等级"]
    mapping = {"key_column": "openid", "key_type": "openid", "columns": {c: c for c in columns}}
    job = imports.start_import("roundtrip", account, data, mapping, dry_run=False, filename="fans.csv")
    assert (job.status, job.encoding, job.total_rows) == (ImportStatus.DONE, "utf-8-sig", 40)
    assert (job.updated, job.unchanged, job.skipped, job.error_count) == (0, 39, 1, 0)
    assert dict(Fan.objects.values_list("openid", "attributes")) == before
