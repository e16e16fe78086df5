"""Article reading as fan behaviour: who opens a pushed or published article, when, and who shares it.

When a mass send of mpnews goes out (wxsim/api/push.py) or a draft is published
(wxsim/api/publishing.py), `schedule_reads` decides for every recipient and article whether and when the
fan reads it, and whether the reader shares it. The decisions are drawn from a generator seeded with the
world's seed, the account and the publication's msg_data_id, so the same seed gives the same reads
whatever the threads do. Reads lie in the future of the push (an exponential delay with the account's
half-life); a read "has happened" once the clock passes its time. The datacube article statistics are
computed from these events (wxsim/api/datacube.py), and GET /wxsim/reads shows them as ground truth.

The parameters are the account's ReadingModel (wxsim/content.py), set from a scenario with
POST /wxsim/reading or `set_reading_model`; a fan's own chance is multiplied by `Fan.read_affinity`.
A population can make reads follow its daily rhythm with `set_read_rhythm`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from typing import Any

from wxsim.content import Publication, ReadEvent
from wxsim.model import Account, Fan
from wxsim.world import World

FROM_PUSH = "公众号消息"  # scene_desc values as getarticletotaldetail answers them
FROM_HOME = "公众号主页"
SHARE_CHAT = "聊天会话"
SHARE_MOMENTS = "朋友圈"
# A read by a friend of a sharer (not a fan) carries this openid prefix in the ground truth.
OUTSIDER = "~"


def set_reading_model(world: World, appid: str, values: dict[str, Any]) -> dict[str, Any]:
    """Set an account's reading parameters (a ValueError names a bad one and changes nothing)."""
    with world.lock:
        account = world.account(appid)
        trial = type(account.reading)(**account.reading.as_dict(), rhythm=account.reading.rhythm)
        trial.update(values)
        account.reading = trial
        return trial.as_dict()


def schedule_reads(
    world: World, account: Account, publication: Publication, recipients: Iterable[Fan]
) -> int:
    """Draw who reads and shares `publication`; returns how many reads were scheduled."""
    model = account.reading
    rng = random.Random(f"{world.seed}:{account.appid}:{publication.msg_data_id}")
    base = model.read_probability if publication.notified else model.publish_read_probability
    scene = FROM_PUSH if publication.notified else FROM_HOME
    rate = math.log(2) / (model.half_life_hours * 3600)
    horizon = publication.sent_at + model.horizon_days * 86400

    def later(start: int, roll: float) -> int:
        delay = -math.log(1.0 - roll) / rate
        return int(model.rhythm(start, delay)) if model.rhythm is not None else start + int(delay)

    events: list[ReadEvent] = []
    mid = publication.msg_data_id
    for fan in recipients:
        for idx in range(1, len(publication.articles) + 1):
            chance = base * (1.0 if idx == 1 else model.later_article_factor) * fan.read_affinity
            if rng.random() >= min(chance, 1.0):
                continue
            delay_roll, share_roll, where_roll = rng.random(), rng.random(), rng.random()
            shared = share_roll < model.share_probability
            # Every draw is made before the horizon filters, so a rhythm moves reads but not the draws.
            friend_rolls = (
                [rng.random() for _ in range(_poisson(rng, model.reads_per_share))] if shared else []
            )
            at = later(publication.sent_at, delay_roll)
            if at > horizon:
                continue
            events.append(ReadEvent(at, fan.openid, mid, idx, "read", scene))
            if not shared:
                continue
            where = SHARE_MOMENTS if where_roll < model.moments_share else SHARE_CHAT
            events.append(ReadEvent(at, fan.openid, mid, idx, "share", where))
            # Friends who open the shared article: not fans of the account, named after the sharer.
            for n, roll in enumerate(friend_rolls):
                friend_at = later(at, roll)
                if friend_at <= horizon:
                    reader = f"{OUTSIDER}{fan.openid}:{idx}:{n}"
                    events.append(ReadEvent(friend_at, reader, mid, idx, "read", where))
    account.content.reads.extend(events)
    return sum(1 for e in events if e.kind == "read")


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small means a share brings."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def cancel_reads(account: Account, msg_data_id: int, after: float, idx: int = 0) -> None:
    """A deleted article is read no more: drop its reads later than `after` (idx 0: every article)."""
    account.content.reads = [
        e
        for e in account.content.reads
        if not (e.msg_data_id == msg_data_id and idx in (0, e.idx) and e.time > after)
    ]


def reads_so_far(account: Account, now: float) -> list[ReadEvent]:
    return [e for e in account.content.reads if e.time <= now]


def set_read_rhythm(world: World, appid: str, rhythm: Callable[[float, float], float] | None) -> None:
    """Reads at the times `rhythm(push_time, delay_seconds)` gives, e.g. a population's reading rhythm
    `lambda start, seconds: READS.after(start, seconds / 86400)` (wxsim/population/rhythm.py)."""
    with world.lock:
        world.account(appid).reading.rhythm = rhythm
