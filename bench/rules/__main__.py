"""python -m bench.rules: matching one message against 1,000 keyword + 100 regex rules (target ≤ 50 µs).

Runs the callback's own code (autoreply.matcher + decision.decide) in one process, without a database:
the rules are cleaned by the same validation the API uses and compiled once, then 30,000 fans' texts
are decided. Reports the compile time and µs per message (median of 5 rounds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from datetime import UTC, datetime

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liucun.settings")
django.setup()

from bench.rules.ruleset import messages, rules  # noqa: E402
from liucun.autoreply.decision import FanFacts, decide  # noqa: E402
from liucun.autoreply.matcher import Matcher, Probe  # noqa: E402
from liucun.autoreply.validation import clean_rule  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.rules", description=__doc__)
    parser.add_argument("--keywords", type=int, default=1000)
    parser.add_argument("--regexes", type=int, default=100)
    parser.add_argument("--messages", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    rows = [{"id": i + 1, **clean_rule(r, [])} for i, r in enumerate(rules(args.keywords, args.regexes))]
    started = time.perf_counter()
    matcher = Matcher(rows, version=1)
    compile_ms = (time.perf_counter() - started) * 1000
    probes = [Probe("text", text=t) for t in messages(args.messages)]
    now = datetime.now(UTC)
    fan = FanFacts()
    answered = 0
    per_message = []
    for _ in range(args.rounds):
        answered = 0
        started = time.perf_counter()
        for probe in probes:
            decision = decide(matcher, probe, now=now, load_fan=lambda _t: fan, is_open=lambda: True)
            answered += decision.rule_id is not None
        per_message.append((time.perf_counter() - started) / len(probes) * 1e6)
    print(f"rules: {len(rows)} ({args.keywords} keyword, {args.regexes} regex, 1 default)")
    print(f"compile: {compile_ms:.1f} ms")
    print(f"messages: {len(probes)} x {args.rounds} rounds, answered by a rule: {answered}")
    print(f"per message: median {statistics.median(per_message):.1f} µs, best {min(per_message):.1f} µs")


if __name__ == "__main__":
    main()
