"""python -m bench.sync: a follower sync of N followers (default 1,000,000) from wxsim into Liucun.

wxsim holds the followers; Liucun's real sync (liucun.fans.sync.run_sync through the account's WeChat
client, over real HTTP) brings them in on the database of DATABASE_URL (a fresh SQLite file when unset;
run under scripts/with-postgres for PostgreSQL). Reported, all in the same run:

- baseline: reading every user/get page and user/info/batchget for every follower through the same
  client, writing nothing (what WeChat's side costs, so the reader sees Liucun's own share);
- first sync: every follower new to Liucun; then Liucun's following set is checked against WeChat's;
- second sync: everyone already known (the incremental/scheduled case);
- resumed sync: stopped after a few pages as if the worker died, then resumed: no page is read twice.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.sync", description=__doc__)
    parser.add_argument("--fans", type=int, default=1_000_000, help="followers in wxsim (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="50,000 followers, for a smoke run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--first-only",
        action="store_true",
        help="only the baseline and the first sync (skip the second and resumed)",
    )
    return parser.parse_args()


def _setup_django() -> str:
    if not os.environ.get("DATABASE_URL"):
        data = Path(tempfile.mkdtemp(prefix="liucun-bench-sync-"))
        os.environ["LIUCUN_DATA_DIR"] = str(data)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(label: str, work: Any) -> tuple[Any, float, float]:
    """Run `work`; its result, wall time and this process's CPU time (every thread's)."""
    print(f"  {label} ...", end="", flush=True)
    started, cpu = time.perf_counter(), time.process_time()
    result = work()
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f" {took:.1f} s (CPU {cpu:.1f} s)", flush=True)
    return result, took, cpu


def main() -> None:
    args = _args()
    n = 50_000 if args.quick else args.fans
    database = _setup_django()
    from bench.sync.steps import (
        add_followers,
        baseline_read,
        following_in_liucun,
        sync_once,
        wechat_followers,
    )
    from liucun.testing.factories import make_account_on_wxsim
    from wxsim.control_client import WxsimControl, running_wxsim

    print(f"bench.sync: {n:,} followers, database {database}, Python {sys.version.split()[0]}")
    with running_wxsim(seed=args.seed) as url:
        control = WxsimControl(url, timeout=600)
        account = make_account_on_wxsim(control)
        _, load, _ = _timed(
            f"loading {n:,} followers into wxsim", lambda: add_followers(control, account.appid, n)
        )
        base, base_s, base_cpu = _timed(
            "baseline: read every page and profile, write nothing", lambda: baseline_read(account)
        )
        first, first_s, first_cpu = _timed("first sync (all new)", lambda: sync_once(account))
        truth = wechat_followers(account)
        ours = following_in_liucun(account)
        assert ours == truth, (
            f"Liucun follows {len(ours):,}, WeChat {len(truth):,}, differ by {len(ours ^ truth):,}"
        )
        steps = [
            ("baseline: read pages + batchget, no writes", base_s, base_cpu),
            ("first sync (all new)", first_s, first_cpu),
        ]
        if not args.first_only:
            second, second_s, second_cpu = _timed("second sync (all known)", lambda: sync_once(account))
            resumed, resumed_s, resumed_cpu = _timed(
                "resumed sync (stopped after 3 pages)", lambda: sync_once(account, stop_after=3)
            )
            steps += [
                ("second sync (all known)", second_s, second_cpu),
                ("resumed sync (3 pages, then the rest)", resumed_s, resumed_cpu),
            ]
    pages = -(-n // 10_000)
    assert first.pages_done == pages
    if not args.first_only:
        assert second.pages_done == pages and resumed.pages_done == pages
    print()
    print("| step | wall time | CPU of the syncing process | followers/s |")
    print("|---|---|---|---|")
    for label, took, cpu in steps:
        print(f"| {label} | {took:.1f} s | {cpu:.1f} s | {n / took:,.0f} |")
    print()
    print(
        f"first sync: {first.created_fans:,} fans created in {first.pages_done} pages; "
        f"Liucun's following set equals WeChat's ({len(truth):,}); "
        f"Liucun's own share {first_s - base_s:.1f} s of {first_s:.1f} s "
        f"(CPU {first_cpu - base_cpu:.1f} s of {first_cpu:.1f} s)"
    )
    print(f"load average at the end (1, 5, 15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if not args.first_only:
        print(f"resumed: pages {resumed.pages_done} in total, none read twice")
    print(f"peak RSS {_rss_mib():.0f} MiB")
    print(f"(wxsim load {load:.1f} s, not counted; baseline read {base:,} profiles)")


if __name__ == "__main__":
    main()
