"""Fan lists as CSV: what Excel needs, streaming, the audit entry, and a round trip through an import."""

from __future__ import annotations

import codecs
import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from liucun.crm import exports, imports
from liucun.crm.models import ImportStatus
from liucun.crm.tests.helpers import make_fans
from liucun.fans.models import Fan
from liucun.fans.queries import FanFilter
from liucun.staff.models import AuditEntry
from liucun.tags.models import FanTag, Tag
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db
T = datetime(2026, 5, 1, 2, 0, tzinfo=UTC)


def _export(
    account, filt: FanFilter | None = None, ordering: str = "openid", style: exports.CsvStyle | None = None
) -> tuple[bytes, list[str]]:
    chunks = list(exports.fan_csv_rows("exporter", account, filt or FanFilter(), ordering, style))
    return "".join(chunks).encode("utf-8"), chunks


def _table(data: bytes) -> list[list[str]]:
    assert data.startswith(codecs.BOM_UTF8)
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _two_fans(account) -> None:
    o1 = Fan.objects.create(
        account=account,
        openid="o1",
        unionid="u1",
        is_following=True,
        channel="store_1",
        followed_at=datetime.now(UTC) - timedelta(days=3, hours=1),
        remark="VIP 张女士",
        attributes={"store": "静安店", "phone": "13800138000"},
    )
    left = Fan.objects.create(
        account=account,
        openid="o2",
        followed_at=T,
        unfollowed_at=T + timedelta(days=2, hours=12),
        last_interaction_at=T + timedelta(hours=1, seconds=7),
        attributes={"会员等级": "金卡", "note": "=HYPERLINK(1)"},
    )
    assert not left.is_following
    vip, new = (
        Tag.objects.create(account=account, wechat_id=100 + i, name=n) for i, n in enumerate(["VIP", "新客"])
    )
    FanTag.objects.bulk_create([FanTag(fan=o1, tag=vip), FanTag(fan=o1, tag=new)])
    Fan.objects.create(account=make_account(), openid="o3", attributes={"secret_other_account": "x"})


def test_the_csv_has_a_bom_a_header_and_one_column_per_attribute() -> None:
    account = make_account()
    _two_fans(account)
    table = _table(_export(account)[0])
    assert table[0] == [
        "openid",
        "unionid",
        "following",
        "channel",
        "followed_at",
        "unfollowed_at",
        "stayed_days",
        "last_interaction_at",
        "remark",
        "tags",
        "note",
        "phone",
        "store",
        "会员等级",
    ]
    followed = timezone.localtime(Fan.objects.get(openid="o1").followed_at).strftime("%Y-%m-%d %H:%M:%S")
    assert table[1] == [
        "o1",
        "u1",
        "yes",
        "store_1",
        followed,
        "",
        "3.0",
        "",
        "VIP 张女士",
        "VIP, 新客",
        "",
        "13800138000",
        "静安店",
        "",
    ]
    # China time as Excel reads it: no "T", no offset (T is 02:00 UTC).
    assert table[2] == [
        "o2",
        "",
        "no",
        "",
        "2026-05-01 10:00:00",
        "2026-05-03 22:00:00",
        "2.5",
        "2026-05-01 11:00:07",
        "",
        "",
        "'=HYPERLINK(1)",
        "",
        "",
        "金卡",
    ]
    assert len(table) == 3


def test_chinese_headers_and_chinese_values() -> None:
    account = make_account()
    _two_fans(account)
    chinese = _table(_export(account, style=exports.CsvStyle.for_language("en", chinese_headers=True))[0])
    assert chinese[0] == [
        "OpenID",
        "UnionID",
        "是否关注",
        "渠道",
        "关注时间",
        "取关时间",
        "关注天数",
        "最近互动时间",
        "备注",
        "标签",
        "note",
        "phone",
        "store",
        "会员等级",
    ]
    assert [row[2] for row in chinese[1:]] == ["是", "否"]
    assert chinese[1][9] == "VIP、新客"
    # The Chinese console's file: English column names (what an import maps), Chinese values.
    console = _table(_export(account, style=exports.CsvStyle.for_language("zh-hans"))[0])
    assert console[0][:3] == ["openid", "unionid", "following"]
    assert [row[2] for row in console[1:]] == ["是", "否"]
    assert AuditEntry.objects.filter(action="crm.export", changes__chinese_headers=True).count() == 1


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
