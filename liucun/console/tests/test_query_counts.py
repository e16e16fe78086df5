"""Every console page answers in a pinned number of queries, the same for 6 fans as for 30.

The walk covers every GET-able console URL, so a new page must be pinned here and an N+1 (a query per
row) fails the second assertion before it reaches an operator with a million fans.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, reverse

from liucun.accounts.models import OfficialAccount
from liucun.console.tests.conftest import add_fans, logged_in, make_user, member
from liucun.console.tests.test_scope import console_patterns
from liucun.events.models import Event, EventSource
from liucun.staff.api_tokens import create_api_token
from liucun.staff.audit import record
from liucun.staff.invitations import create_invitation
from liucun.staff.models import Role
from liucun.testing.factories import make_account

pytestmark = pytest.mark.django_db

# Queries per page, measured; a change here is a change a reviewer should see.
PINNED = {
    "api-tokens": 5, "audit": 6, "blacklist": 5, "canned-replies": 5, "channel": 7, "channel-qrcode-image": 5,
    "channels": 6, "conversation": 18, "conversation-thread": 9, "fan": 10, "fan-export": 10,
    "fan-outbound": 8, "fans": 12, "fans-csv": 11, "home": 3, "import": 6, "imports": 7, "inbox-metrics": 7,
    "inbox-rows": 13, "inbox-settings": 5, "invitation": 3, "menu-draft": 7, "menu-history": 5,
    "menu-stats": 9, "menu-trymatch": 5, "menus": 8, "message-log": 5, "messages": 14, "overview": 13,
    "push-list": 6, "reconcile": 7, "report": 13, "report-csv": 9, "reports": 4, "rule-edit": 6,
    "rule-new": 5, "rules": 7, "rules-export": 5, "saved-filter-apply": 4, "saved-filters": 6,
    "service-hours": 5, "settings": 4, "staff": 6, "sync": 6, "sync-progress": 5, "tag-job-progress": 5,
    "tag-jobs": 6, "tags": 7,
}  # fmt: skip

# URLs that only take POST (actions); a GET answers 405 without touching the database beyond the session.
ACTIONS_ONLY = {
    "api-token-revoke", "blacklist-change", "blacklist-sync", "canned-delete", "canned-save",
    "channel-create", "channel-delete", "channel-qrcode-create", "channel-update", "conversation-assign",
    "conversation-note", "conversation-open", "conversation-reply", "conversation-resolve", "fan-attributes",
    "fan-erase", "fan-remark", "fan-send", "fan-send-again", "fan-tags", "import-commit",
    "inbox-availability", "menu-conditional-delete", "menu-delete", "menu-draft-create", "menu-draft-delete",
    "menu-draft-save", "menu-publish", "menu-readback", "menu-restore", "push-annotate", "push-delete",
    "push-import-csv", "push-import-wechat", "reconcile-pull", "rule-delete", "rule-toggle",
    "rules-import", "rules-try", "saved-filter-delete", "saved-filter-rename", "saved-filter-save",
    "staff-grant", "staff-invitation-revoke", "staff-invite", "staff-revoke", "sync-resume", "sync-start",
    "tag-create", "tag-delete", "tag-job-resume", "tag-rename", "tags-bulk", "tags-pull",
}  # fmt: skip


def populate(account: OfficialAccount, fans: int) -> dict[str, Any]:
    """An account with every kind of row a console page lists: fans with periods, tags and events, jobs
    of each type, and audit entries; `fans` sets how many of the repeated rows there are."""
    from liucun.crm.models import ImportJob
    from liucun.fans.models import SyncJob
    from liucun.tags.models import FanTag, Tag, TagJob

    made = add_fans(account, fans, prefix=f"oQ{fans}")
    tag = Tag.objects.create(account=account, wechat_id=100, name="常客")
    FanTag.objects.bulk_create([FanTag(fan=f, tag=tag) for f in made if f.is_following])
    now = datetime.now(UTC)
    for i, fan in enumerate(made):
        for j, kind in enumerate(("event.subscribe", "text", "event.click")):
            Event.objects.create(
                account=account,
                openid=fan.openid,
                kind=kind,
                dedupe_key=f"q:{fan.openid}:{j}",
                wechat_time=now - timedelta(minutes=i * 3 + j),
                received_at=now,
                source=EventSource.CALLBACK,
                payload={"Content": "你好"} if kind == "text" else {},
            )
    sync = SyncJob.objects.create(account=account)
    tag_job = TagJob.objects.create(account=account, kind="tag", tag=tag)
    imported = ImportJob.objects.create(account=account, filename="crm.csv")
    for i in range(fans):
        record("system", "fans.test_entry", account=account, target=f"t{i}")
    admin = account.memberships.get().user
    for i in range(fans // 6):
        invitation, key = create_invitation(admin, account, Role.AGENT, note=f"n{i}")
        token, _ = create_api_token(admin, f"t{i}", accounts=[account])
    from liucun.activity.tests.fixtures import populate as activity_rows
    from liucun.analytics.tests.fixtures import populate as following_rows
    from liucun.autoreply.tests.fixtures import populate as rules_rows
    from liucun.channels.tests.fixtures import populate as channel_rows
    from liucun.cohorts.tests.fixtures import populate as cohort_rows
    from liucun.inbox.tests.fixtures import populate as inbox_rows
    from liucun.menus.tests.fixtures import populate as menu_rows
    from liucun.outbound.tests.fixtures import populate as outbound_rows
    from liucun.pushimpact.tests.fixtures import populate as push_rows
    from liucun.reconcile.tests.fixtures import populate as reconcile_rows

    channels = channel_rows(account, made)
    sent = outbound_rows(account, made)
    inbox_rows(account, made)
    following_rows(account, made)
    cohort_rows(account, made)
    activity_rows(account, made)
    reconcile_rows(account, made)
    push_id = push_rows(account, made)
    return {"openid": made[0].openid, "tag_id": tag.pk, "sync": sync.pk, "tag_job": tag_job.pk,
            "import": imported.pk, "invitation": invitation.pk, "invitation_key": key,
            "token_prefix": token.prefix, "channel_id": channels[0].pk,
            "qrcode_id": channels[0].qrcodes.first().pk, "message_id": sent[0].pk, "push_id": push_id,
            **rules_rows(account, made), **menu_rows(account, made)}  # fmt: skip


def url_for(pattern: URLPattern, account: OfficialAccount, ids: dict[str, Any], user_id: int) -> str:
    job = {
        "tag-job-progress": ids["tag_job"],
        "tag-job-resume": ids["tag_job"],
        "import": ids["import"],
        "import-commit": ids["import"],
    }
    values = {
        "appid": account.appid,
        "openid": ids["openid"],
        "tag_id": ids["tag_id"],
        "job_id": job.get(str(pattern.name), ids["sync"]),
        "user_id": user_id,
        "key": ids["invitation_key"],
        "prefix": ids["token_prefix"],
        "invitation_id": ids["invitation"],
        "filter_id": ids.get("saved_filter", 0),
        "name": "growth",  # every report is walked by analytics/tests/test_framework.py
        **{n: ids[n] for n in ("channel_id", "qrcode_id", "message_id", "rule_id", "draft_id",
                               "published_id", "menu_id", "push_id")},
    }  # fmt: skip
    return reverse(f"console:{pattern.name}", kwargs={n: values[n] for n in pattern.pattern.converters})


def measure(client: Client, url: str) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)  # type: ignore[arg-type] - a CSV streams its rows
    return response.status_code, len(queries)


def counts(fans: int) -> dict[str, tuple[int, int]]:
    account = make_account(name=f"账号{fans}")
    admin = member(make_user(f"admin{fans}"), account, Role.ADMIN)
    ids = populate(account, fans)
    client = logged_in(admin)
    client.get(reverse("console:home"))  # the session and language are settled before measuring
    found = {}
    for pattern in console_patterns():
        if pattern.name in ("logout", "login"):
            continue
        found[str(pattern.name)] = measure(client, url_for(pattern, account, ids, admin.pk))
    return found


def test_every_console_page_answers_in_its_pinned_number_of_queries() -> None:
    small, large = counts(6), counts(30)
    pages = {name: n for name, (status, n) in small.items() if status != 405}
    actions = {name for name, (status, _) in small.items() if status == 405}
    assert actions == ACTIONS_ONLY, f"POST-only URLs: {sorted(actions)}"
    grows = {name: (small[name][1], large[name][1]) for name in pages if small[name][1] != large[name][1]}
    assert grows == {}, f"pages whose query count grows with the data (N+1): {grows}"
    assert pages == PINNED, f"measured (paste into PINNED once reviewed): {dict(sorted(pages.items()))}"
