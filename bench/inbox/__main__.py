"""python -m bench.inbox: the inbox list with 10,000 open conversations, per page as the console serves it.

Loads an account with N open conversations (default 10,000; plus as many waiting on the fan and resolved,
and their fans) into a fresh database (SQLite unless DATABASE_URL is set; run under scripts/with-postgres
for PostgreSQL), assigned round the clock to 5 agents with a tenth unassigned, then times: the list query
of each view (mine, unassigned, all, window closing soon) at the first, a middle and the last page, the tab
counts, and whole pages through the real endpoints (the console's inbox page and its polled rows, the
API's list) with Django's test client. Reports p50, p95 and max. The target is p95 at most 200 ms a page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.inbox", description=__doc__)
    parser.add_argument("--open", type=int, default=10_000, help="open conversations")
    parser.add_argument("--repeat", type=int, default=20, help="timed pages per shape")
    return parser.parse_args()


def _setup_django() -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["LIUCUN_DATA_DIR"] = tempfile.mkdtemp(prefix="liucun-bench-inbox-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _load(n_open: int) -> dict[str, Any]:
    from datetime import UTC, datetime, timedelta

    from django.contrib.auth import get_user_model

    from liucun.fans.models import Fan
    from liucun.inbox.models import Conversation, OpenedBy, State
    from liucun.staff.models import Membership, Role
    from liucun.testing.factories import make_account

    account = make_account(name="收件箱基准")
    users = get_user_model().objects
    agents = [users.create_user(f"bench-agent-{i}") for i in range(5)]
    for agent in agents:
        Membership.objects.create(user=agent, account=account, role=Role.AGENT)
    now = datetime.now(UTC)
    total = n_open * 3
    fans = [
        Fan(
            account=account,
            openid=f"oBenchInbox{i:08d}",
            is_following=True,
            remark=f"顾客{i}" if i % 4 else "",
        )
        for i in range(total)
    ]
    Fan.objects.bulk_create(fans, batch_size=2000)
    fan_ids = dict(Fan.objects.filter(account=account).values_list("openid", "id"))
    rows = []
    for i in range(total):
        state = (State.OPEN, State.WAITING, State.RESOLVED)[i % 3]
        # Spread over 3 days, so some windows are closing and some are closed.
        at = now - timedelta(seconds=(i * 7919) % (72 * 3600))
        openid = f"oBenchInbox{i:08d}"
        rows.append(
            Conversation(
                account=account,
                openid=openid,
                fan_id=fan_ids[openid],
                state=state,
                opened_by=OpenedBy.MESSAGE,
                opened_at=at,
                waiting_since=at if state == State.OPEN else None,
                last_fan_message_at=at,
                messages=3,
                read_messages=1,
                replies=0 if state == State.OPEN else 1,
                assigned_to=None if i % 10 == 0 else agents[i % 5],
            )
        )
    Conversation.objects.bulk_create(rows, batch_size=2000)
    from django.db import connection

    with connection.cursor() as c:
        # Statistics, as a running database has them; no VACUUM (see bench/fanlist/load.py).
        c.execute("ANALYZE")
    return {"account": account, "agent": agents[0], "now": now}


def _ms(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000, ordered[-1] * 1000


def _shapes(world: dict[str, Any], n_open: int) -> list[tuple[str, Callable[[], Any]]]:
    from django.test import Client

    from liucun.inbox.queries import list_page, tab_counts
    from liucun.staff.api_tokens import create_api_token

    account, agent, now = world["account"], world["agent"], world["now"]
    last = max(n_open // 50, 1)
    shapes: list[tuple[str, Callable[[], Any]]] = []
    for view in ("all", "mine", "unassigned", "closing"):
        for page in (1, max(last // 2, 1), last):
            if view != "all" and page != 1 and view != "mine":
                continue

            def run(view: str = view, page: int = page) -> Any:
                return list_page(account.pk, agent.pk, view=view, state="open", page=page, now=now)

            shapes.append((f"list {view}, open, page {page}", run))
    counts = "tab counts (5 index ranges, capped at 1,000)"
    shapes.append((counts, lambda: tab_counts(account.pk, agent.pk, now)))
    console = Client()
    console.force_login(agent)
    appid = account.appid
    shapes.append(("HTTP GET console inbox page (mine)", lambda: _ok(console.get(f"/a/{appid}/messages/"))))
    shapes.append(
        (
            "HTTP GET console polled rows (all, page 100)",
            lambda: _ok(console.get(f"/a/{appid}/messages/rows?view=all&page=100")),
        )
    )
    _, key = create_api_token(agent, "bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    shapes.append(
        (
            "HTTP GET /api/accounts/{appid}/conversations?view=all",
            lambda: _ok(api.get(f"/api/accounts/{appid}/conversations?view=all")),
        )
    )
    return shapes


def _ok(response: Any) -> Any:
    if response.status_code != 200:
        raise SystemExit(f"bench.inbox: {response.status_code} from the endpoint")
    return response


def main() -> None:
    args = _args()
    database = _setup_django()
    print(
        f"bench.inbox: {args.open:,} open conversations ({args.open * 3:,} in all), database {database}, "
        f"Python {sys.version.split()[0]}"
    )
    started = time.perf_counter()
    world = _load(args.open)
    print(f"  loaded in {time.perf_counter() - started:.1f} s (not counted)")
    rows = []
    for name, run in _shapes(world, args.open):
        run()  # warm, as a second visitor finds it
        samples = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            run()
            samples.append(time.perf_counter() - t)
        rows.append((name, _ms(samples)))
        print(f"  {name}: p95 {rows[-1][1][1]:.1f} ms", flush=True)
    print()
    print("| shape (50 a page) | p50 ms | p95 ms | max ms |")
    print("|---|---|---|---|")
    for name, (p50, p95, top) in rows:
        print(f"| {name} | {p50:.1f} | {p95:.1f} | {top:.1f} |")
    worst = max(r[1][1] for r in rows)
    print(f"\nworst p95: {worst:.1f} ms (target: at most 200 ms)")


if __name__ == "__main__":
    main()
