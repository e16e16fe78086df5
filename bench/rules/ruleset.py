"""A large, realistic rule set: 1,000 keyword rules (half exact, half contains) and 100 regexes.

Keywords look like a shop's (product names, order words, store numbers); the regexes are the kinds
operators write (order numbers, phone numbers, alternations). Used by the matching microbenchmark and
by `python -m bench.ingest --rules`.
"""

from __future__ import annotations

from typing import Any

WORDS = ("会员", "积分", "优惠", "门店", "预约", "订单", "发货", "退货", "发票", "活动", "礼品", "充值")


def rules(keywords: int = 1000, regexes: int = 100) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(keywords):
        word = f"{WORDS[i % len(WORDS)]}{i:04d}"
        out.append(
            {
                "name": f"kw{i}",
                "trigger": "keyword",
                "match": "exact" if i % 2 == 0 else "contains",
                "values": [word, f"{word}问题"],
                "priority": i % 7,
                "replies": [{"type": "text", "text": f"关于{word}：请查看会员中心，或回复“人工客服”。"}],
            }
        )
    shapes = (
        r"订单\s*号?\s*[0-9]{{6,12}}.*{i}",
        r"1[3-9][0-9]{{9}}.*门店{i}",
        r"(预约|booking)\s*第?{i}号?",
        r"^(怎么|如何).*(退|换)货{i}",
        r"(?i)coupon[-_ ]?{i}\b",
    )
    for i in range(regexes):
        out.append(
            {
                "name": f"re{i}",
                "trigger": "keyword",
                "match": "regex",
                "values": [shapes[i % len(shapes)].format(i=i)],
                "replies": [{"type": "text", "text": f"正则规则 {i}"}],
            }
        )
    out.append(
        {"name": "默认", "trigger": "default", "replies": [{"type": "text", "text": "48 小时内回复您。"}]}
    )
    return out


def messages(count: int, seed: int = 1) -> list[str]:
    """Fans' texts: a third hit an exact keyword, a third contain one, a third match nothing special."""
    import random

    rng = random.Random(seed)
    out = []
    for n in range(count):
        i = rng.randrange(1000)
        word = f"{WORDS[i % len(WORDS)]}{i:04d}"
        kind = n % 3
        if kind == 0:
            out.append(word)
        elif kind == 1:
            out.append(f"你好，我想问一下{word}问题，谢谢")
        else:
            out.append(
                f"请问第{rng.randrange(100)}号门店几点营业？订单 {rng.randrange(10**8):08d} 什么时候发货"
            )
    return out
