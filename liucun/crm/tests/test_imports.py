"""CSV imports: encodings and delimiters, mappings, line errors, dry runs, all or nothing, idempotence."""

from __future__ import annotations

import codecs

import pytest
from django.core.exceptions import ValidationError

from liucun.accounts.actions import update_account
from liucun.crm import imports
from liucun.crm.csvfile import MAX_UPLOAD_BYTES
from liucun.crm.importplan import CHUNK
from liucun.crm.models import ImportJob, ImportStatus
from liucun.crm.tests.helpers import MAPPING, attributes_of, csv_text, make_fans, member_rows
from liucun.fans.models import Fan
from liucun.staff.models import AuditEntry
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def account():
    return make_account()


def _start(
    account, data: bytes, mapping=MAPPING, *, dry_run: bool = True, name: str = "会员.csv"
) -> ImportJob:
    return imports.start_import("tester", account, data, mapping, dry_run=dry_run, filename=name)


@pytest.mark.parametrize(
    ("encode", "delimiter", "encoding"),
    [
        (lambda text: text.encode("gbk"), ",", "gb18030"),
        (lambda text: codecs.BOM_UTF8 + text.encode("utf-8"), ",", "utf-8-sig"),
        (lambda text: text.encode("utf-8"), "\t", "utf-8"),
        (lambda text: text.encode("gb18030"), ";", "gb18030"),
        (lambda text: text.encode("utf-16"), "\t", "utf-16"),  # Excel's "Unicode text"
    ],
    ids=["gbk-comma", "utf8-bom-comma", "utf8-tab", "gb18030-semicolon", "utf16-tab"],
)
def test_encodings_and_delimiters_are_detected(account, encode, delimiter, encoding) -> None:
    fans = make_fans(account, 3)
    data = encode(csv_text(member_rows([f.openid for f in fans]), delimiter=delimiter))
    job = _start(account, data, dry_run=False)
    assert (job.status, job.encoding, job.delimiter) == (ImportStatus.DONE, encoding, delimiter)
    assert (job.total_rows, job.updated, job.error_count) == (3, 3, 0)
    assert attributes_of(account, fans[1].openid) == {
        "customer_id": "C000001",
        "phone": "13800000001",
        "store": "静安店",
        "last_purchase": "2026-05-01 拿铁",
    }


def test_mapping_by_unionid(account) -> None:
    fans = make_fans(account, 3)
    rows = [["UnionID", "会员等级"], [fans[0].unionid, "金卡"], [fans[2].unionid, "银卡"]]
    mapping = {"key_column": "UnionID", "key_type": "unionid", "columns": {"会员等级": "tier"}}
    job = _start(account, csv_text(rows).encode("gbk"), mapping, dry_run=False)
    assert job.status == ImportStatus.DONE and job.updated == 2
    assert attributes_of(account, fans[0].openid) == {"tier": "金卡"}
    assert attributes_of(account, fans[1].openid) == {}


def test_mapping_by_unionid_over_many_rows_reads_the_fans_once(
    account, django_assert_max_num_queries
) -> None:
    fans = make_fans(account, CHUNK + 1000)
    rows = [["unionid", "门店"]] + [[f.unionid, "徐汇店"] for f in fans]
    mapping = {"key_column": "unionid", "key_type": "unionid", "columns": {"门店": "store"}}
    with django_assert_max_num_queries(40):
        job = _start(account, csv_text(rows).encode(), mapping)
    assert (job.status, job.would_update, job.error_count) == (ImportStatus.VALIDATED, CHUNK + 1000, 0)


def test_every_line_error_has_its_line_number(account) -> None:
    make_fans(account, 5)
    full = Fan.objects.get(account=account, openid="oF000004")
    full.attributes = {f"k{i}": "v" for i in range(50)}
    full.save()
    Fan.objects.create(account=account, openid="oTwinA", unionid="uTwin", is_following=True)
    Fan.objects.create(account=account, openid="oTwinB", unionid="uTwin", is_following=True)
    rows = [
        ["openid", "客户编号", "手机", "门店", "最近购买"],  # line 1
        ["oF000000", "C1", "+86 138-0013-8000", "静安店", ""],  # 2: fine, phone normalised
        ["", "C2", "", "", ""],  # 3: empty key
        ["oNobody", "C3", "", "", ""],  # 4: not a fan of this account
        ["oF000000", "C4", "", "", ""],  # 5: already on line 2
        ["oF000001", "C5", "1380013", "", ""],  # 6: malformed phone
        ["oF000002", "C6", "", "x" * 201, ""],  # 7: value too long
        ["oF000004", "C7", "", "", ""],  # 8: would be the 51st attribute
    ]
    job = _start(account, csv_text(rows).encode("gbk"))
    assert job.status == ImportStatus.VALIDATED
    assert (job.total_rows, job.error_count, job.would_update) == (7, 6, 1)
    errors = {e["line"]: e["message"] for e in job.line_errors}
    assert sorted(errors) == [3, 4, 5, 6, 7, 8]
    assert "openid is empty" in errors[3]
    assert "oNobody" in errors[4]
    assert "line 2" in errors[5]
    assert errors[6].startswith("手机:") and "mainland mobile" in errors[6]
    assert errors[7].startswith("门店:") and "201 characters" in errors[7]
    assert "51 attributes" in errors[8]
    assert not job.can_commit and not job.has_content  # it can never be applied: the upload goes

    twins = [["unionid", "门店"], ["uTwin", "静安店"]]
    mapping = {"key_column": "unionid", "key_type": "unionid", "columns": {"门店": "store"}}
    job = _start(account, csv_text(twins).encode(), mapping)
    assert job.line_errors == [{"line": 2, "message": "this unionid belongs to 2 fans (oTwinA, oTwinB)"}]


def test_line_numbers_follow_records_not_physical_lines(account) -> None:
    make_fans(account, 2)
    data = 'openid,门店\r\noF000000,"静安\r\n寺店"\r\n\r\noMissing,徐汇店\r\n'.encode()
    job = _start(account, data, {"key_column": "openid", "key_type": "openid", "columns": {"门店": "store"}})
    # Line 2 spans two physical lines; line 3 is blank (skipped, still counted); line 4 is the error.
    assert [e["line"] for e in job.line_errors] == [4]
    assert job.total_rows == 2


def test_a_dry_run_writes_nothing_but_its_job(account) -> None:
    fans = make_fans(account, 20)
    before = list(Fan.objects.order_by("pk").values_list("attributes", "updated_at"))
    audits = AuditEntry.objects.count()
    job = _start(account, csv_text(member_rows([f.openid for f in fans])).encode("gbk"))
    assert (job.status, job.dry_run, job.would_update, job.unchanged, job.updated) == (
        ImportStatus.VALIDATED,
        True,
        20,
        0,
        0,
    )
    assert job.can_commit and job.is_over and job.progress == 1.0
    assert list(Fan.objects.order_by("pk").values_list("attributes", "updated_at")) == before
    assert AuditEntry.objects.count() == audits

    committed = imports.commit_import("tester", account, job.pk)
    assert (committed.status, committed.updated, committed.dry_run) == (ImportStatus.DONE, 20, False)
    assert not committed.has_content
    with pytest.raises(ValidationError, match="applied already"):
        imports.commit_import("tester", account, job.pk)


def test_one_bad_line_among_a_thousand_writes_nothing(account) -> None:
    fans = make_fans(account, 1000)
    rows = member_rows([f.openid for f in fans])
    rows[700][2] = "call me"  # line 701
    job = _start(account, csv_text(rows).encode("gbk"), dry_run=False)
    assert job.status == ImportStatus.FAILED and job.updated == 0
    assert [e["line"] for e in job.line_errors] == [701]
    assert job.line_errors[0]["message"].startswith("手机: not a mainland mobile number")
    assert "nothing was written" in job.error
    assert not Fan.objects.filter(account=account).exclude(attributes={}).exists()
    assert not AuditEntry.objects.filter(action="crm.import").exists()
    assert not job.has_content  # nothing more can come of it: the personal data goes


def test_importing_the_same_file_twice_changes_nothing_the_second_time(account) -> None:
    fans = make_fans(account, 50)
    data = csv_text(member_rows([f.openid for f in fans])).encode("gbk")
    first = _start(account, data, dry_run=False)
    stamps = dict(Fan.objects.values_list("openid", "updated_at"))
    second = _start(account, data, dry_run=False)
    assert (first.updated, second.updated, second.unchanged) == (50, 0, 50)
    assert dict(Fan.objects.values_list("openid", "updated_at")) == stamps
    summary = AuditEntry.objects.filter(action="crm.import").order_by("id").first()
    assert summary.account == account and summary.target == f"import {first.pk}"
    assert summary.changes["updated"] == 50 and summary.changes["key_type"] == "openid"
    assert summary.changes["attributes"] == ["customer_id", "last_purchase", "phone", "store"]


def test_empty_cells_keep_values_unless_told_to_clear(account) -> None:
    make_fans(account, 1)
    Fan.objects.filter(openid="oF000000").update(attributes={"store": "静安店", "tier": "金卡"})
    rows = [["openid", "门店", "等级"], ["oF000000", "", "银卡"]]
    mapping = {"key_column": "openid", "key_type": "openid", "columns": {"门店": "store", "等级": "tier"}}
    _start(account, csv_text(rows).encode(), mapping, dry_run=False)
    assert attributes_of(account, "oF000000") == {"store": "静安店", "tier": "银卡"}
    _start(account, csv_text(rows).encode(), {**mapping, "clear_empty": True}, dry_run=False)
    assert attributes_of(account, "oF000000") == {"tier": "银卡"}


def test_fans_who_left_an_erasing_account_are_skipped(account) -> None:
    make_fans(account, 2)
    Fan.objects.filter(openid="oF000001").update(is_following=False)
    data = csv_text(member_rows(["oF000000", "oF000001"])).encode()
    job = _start(account, data, dry_run=False)
    assert (job.updated, job.skipped) == (1, 1)
    assert attributes_of(account, "oF000001") == {}
    account = update_account(account, privacy_on_unfollow="keep")
    assert _start(account, data, dry_run=False).updated == 1
    assert attributes_of(account, "oF000001")["store"] == "静安店"


@pytest.mark.parametrize(
    ("data", "mapping", "message"),
    [
        (b"openid,x\r\noA,1\r\n", {**MAPPING}, "no column 客户编号"),
        (b"PK\x03\x04rest-of-a-zip", MAPPING, "Excel workbook"),
        (b"", MAPPING, "empty"),
        (b"\xff\xfe\xfa", MAPPING, None),
        ("openid,手机\r\n".encode(), {"key_column": "openid", "columns": {"手机": "openid"}}, "fan field"),
        (
            "openid,手机\r\n".encode(),
            {"key_column": "openid", "key_type": "mobile", "columns": {}},
            "key_type",
        ),
    ],
)
def test_a_file_that_cannot_be_used_makes_no_job(account, data, mapping, message) -> None:
    with pytest.raises(ValidationError) as raised:
        _start(account, data, mapping)
    if message:
        assert message in " ".join(raised.value.messages)
    assert not ImportJob.objects.exists()


def test_uploads_are_limited_in_size(account) -> None:
    header = b"openid,\xe6\x89\x8b\xe6\x9c\xba\r\n"
    with pytest.raises(ValidationError, match="larger than 20 MB"):
        _start(account, header + b"o" * MAX_UPLOAD_BYTES)
    assert not ImportJob.objects.exists()


def test_formula_escapes_from_an_export_are_undone(account) -> None:
    make_fans(account, 1)
    rows = [["openid", "备注"], ["oF000000", "'=SUM(A1)"]]
    mapping = {"key_column": "openid", "key_type": "openid", "columns": {"备注": "note"}}
    _start(account, csv_text(rows).encode(), mapping, dry_run=False)
    assert attributes_of(account, "oF000000") == {"note": "=SUM(A1)"}


def test_the_first_hundred_errors_by_line_are_kept_and_all_are_counted(account) -> None:
    make_fans(account, 100)
    rows = [["openid", "手机"]]
    rows += [[f"oUnknown{i}", ""] for i in range(120)]  # lines 2-121: found missing while looking up
    rows += [[f"oF{i:06d}", "bad"] for i in range(100)]  # lines 122-221: refused while reading
    mapping = {"key_column": "openid", "key_type": "openid", "columns": {"手机": "phone"}}
    job = _start(account, csv_text(rows).encode(), mapping)
    assert job.error_count == 220
    assert [e["line"] for e in job.line_errors] == list(range(2, 102))


def test_a_check_made_before_an_erasure_cannot_write_the_erased_data_back(account) -> None:
    from liucun.fans.privacy import erase_fan

    fans = make_fans(account, 3)
    checked = _start(account, csv_text(member_rows([f.openid for f in fans])).encode())
    assert (checked.status, checked.would_update) == (ImportStatus.VALIDATED, 3)
    erase_fan(account, fans[1].openid, "tester", "the fan asked")
    applied = imports.commit_import("tester", account, checked.pk)
    assert (applied.status, applied.updated, applied.skipped) == (ImportStatus.DONE, 2, 1)
    assert attributes_of(account, fans[1].openid) == {}
    assert attributes_of(account, fans[0].openid)["phone"] == "13800000000"
    # A file uploaded after the erasure is new information, given by the company: it applies.
    later = _start(account, csv_text(member_rows([fans[1].openid])).encode(), dry_run=False)
    assert (later.updated, later.skipped) == (1, 0)
