"""python -m bench.ingest.inprocess: the CPU the ingest write costs per delivery, without HTTP.

The HTTP benchmark (`python -m bench.ingest`) measures the whole callback on a quiet machine; on a busy
one its numbers mostly measure the neighbours. This one times only `inbound.actions.store_deliveries`
(event, fan, follow periods, reply) in batches as the group commit forms them, on a fresh SQLite file,
with the same mix of deliveries (55% text, 20% QR follows, 15% CLICK, 10% unfollows from 20,000 fans),
and reports this process's CPU time per delivery: the best of several rounds, so that a round the
scheduler disturbed does not count. Run it from two trees to compare code (see bench/sync/README.md).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from datetime import UTC, datetime


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest.inprocess", description=__doc__)
    parser.add_argument("--deliveries", type=int, default=20_000, help="deliveries per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--batch", type=int, default=32, help="deliveries per transaction")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--rules",
        action="store_true",
        help="alternate rounds on an account without rules and one with bench/rules' 1,101 rules",
    )
    return parser.parse_args()


def _fields(
    rng: random.Random, i: int, original_id: str, t: int, texts: list[str] | None = None
) -> dict[str, str]:
    head = {
        "ToUserName": original_id,
        "FromUserName": f"oBench{rng.randrange(20_000):022d}",
        "CreateTime": str(t),
    }
    roll = rng.random()
    if roll < 0.55:
        content = texts[i % len(texts)] if texts else "你好"
        return {**head, "MsgType": "text", "Content": content, "MsgId": str(10**12 + i)}
    if roll < 0.75:
        scene = f"qrscene_store_{rng.randrange(1000):03d}"
        return {**head, "MsgType": "event", "Event": "subscribe", "EventKey": scene}
    if roll < 0.90:
        return {**head, "MsgType": "event", "Event": "CLICK", "EventKey": "menu_1"}
    return {**head, "MsgType": "event", "Event": "unsubscribe", "EventKey": ""}


def main() -> None:
    args = _args()
    os.environ["LIUCUN_DATA_DIR"] = tempfile.mkdtemp(prefix="liucun-bench-inprocess-")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
    os.environ.setdefault("LIUCUN_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    import liucun
    from liucun.inbound.accounts_cache import get_callback_account
    from liucun.inbound.actions import Delivery, store_deliveries
    from liucun.testing.factories import make_account
    from liucun.wechat.messages import message_from_fields

    account = get_callback_account(make_account().appid)
    assert account is not None
    rng = random.Random(args.seed)
    start = int(time.time()) - 86400
    print(f"bench.ingest.inprocess: liucun from {os.path.dirname(liucun.__file__)}")
    accounts = {"": account}
    texts = None
    if args.rules:
        from bench.rules.ruleset import messages, rules
        from liucun.accounts.models import OfficialAccount
        from liucun.autoreply.actions import replace_rules

        ruled = get_callback_account(make_account().appid)
        assert ruled is not None
        replace_rules("bench", OfficialAccount.objects.get(pk=ruled.id), rules())
        # Answering every text has a cost of its own (a reply rendered, encrypted, stored): an account
        # with only the default rule answers as much, so the difference to it is the matching.
        answering = get_callback_account(make_account().appid)
        assert answering is not None
        replace_rules("bench", OfficialAccount.objects.get(pk=answering.id), rules(0, 0))
        accounts = {"without rules": account, "default rule only": answering, "with 1,101 rules": ruled}
        texts = messages(1000, seed=args.seed)
    best = {label: float("inf") for label in accounts}
    for r in range(args.rounds):
        for label, target in accounts.items():
            now = datetime.now(UTC)
            base = (r * len(accounts) + list(accounts).index(label)) * args.deliveries
            messages_ = [
                message_from_fields(_fields(rng, base + i, target.original_id, start + base + i, texts))
                for i in range(args.deliveries)
            ]
            deliveries = [Delivery(target, m, now) for m in messages_]
            cpu = time.process_time()
            for first in range(0, len(deliveries), args.batch):
                store_deliveries(deliveries[first : first + args.batch])
            took = (time.process_time() - cpu) / len(deliveries) * 1e6
            best[label] = min(best[label], took)
            print(f"  round {r + 1} {label}: {took:.0f} µs CPU a delivery", flush=True)
    for label, value in best.items():
        print(f"best of {args.rounds} {label}: {value:.0f} µs CPU a delivery (batches of {args.batch})")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
