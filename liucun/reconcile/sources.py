"""WeChat's user_source codes (getusersummary), in words, from the statistics pages (用户分析) and the
older SDK docs that list 35/39/43. Codes not listed are shown by number."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from liucun.refusals import Text

QR_CODE = 30

NAMES: dict[int, Text] = {
    0: _("Other"),
    1: _("Search"),
    17: _("Business card shared"),
    30: _("QR code"),
    35: _("Search by number (Add Friends)"),
    39: _("Official account lookup"),
    43: _("Menu at the top of an article"),
    51: _("After a payment"),
    57: _("Account name in an article"),
    75: _("Article ads"),
    78: _("Moments ads"),
    100: _("Ads"),
    149: _("Mini program"),
    161: _("Repost"),
    200: _("Channels"),
    201: _("Live stream"),
}


def source_name(code: int) -> str:
    name = NAMES.get(code)
    return str(name) if name is not None else str(_("Source %(code)d") % {"code": code})
