"""Building fans and CSV files for the CRM tests."""

from __future__ import annotations

from typing import Any

from liucun.accounts.models import OfficialAccount
from liucun.fans.models import Fan

MAPPING = {
    "key_column": "openid",
    "key_type": "openid",
    "columns": {"客户编号": "customer_id", "手机": "phone", "门店": "store", "最近购买": "last_purchase"},
}


def make_fans(account: OfficialAccount, count: int, *, prefix: str = "oF", **fields: Any) -> list[Fan]:
    fans = [
        Fan(
            account=account,
            openid=f"{prefix}{i:06d}",
            unionid=f"u{prefix}{i:06d}",
            is_following=True,
            **fields,
        )
        for i in range(count)
    ]
    Fan.objects.bulk_create(fans, batch_size=2000)
    return fans


def csv_text(rows: list[list[str]], *, delimiter: str = ",") -> str:
    """Rows as CSV text with "\\r\\n" line ends, as Excel writes them (no quoting needed by the callers)."""
    return "".join(delimiter.join(row) + "\r\n" for row in rows)


def member_rows(openids: list[str], *, store: str = "静安店") -> list[list[str]]:
    header = ["openid", "客户编号", "手机", "门店", "最近购买", "备注（不导入）"]
    body = [
        [openid, f"C{i:06d}", f"138{i:08d}", store, "2026-05-01 拿铁", "忽略"]
        for i, openid in enumerate(openids)
    ]
    return [header, *body]


def attributes_of(account: OfficialAccount, openid: str) -> dict[str, str]:
    return dict(Fan.objects.get(account=account, openid=openid).attributes)
