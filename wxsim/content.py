"""An account's content: temporary media, permanent materials, drafts, publications, and who read what.

Plain state, no rules: the rules live in wxsim/api/media.py, wxsim/api/publishing.py and wxsim/reading.py.
This module imports nothing of wxsim's so that model.py can hold a Content per account.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NUMERIC = ("probability", "factor", "share", "hours", "days")
FRACTIONS = ("probability", "factor", "moments_share")
MAX_READS_PER_SHARE = 50  # keeps one push's drawn reads bounded


@dataclass
class Media:
    media_id: str
    kind: str  # image, voice, video, thumb
    data: bytes
    filename: str
    content_type: str
    created_at: int
    permanent: bool
    title: str = ""  # permanent videos carry a title and introduction
    introduction: str = ""

    @property
    def url(self) -> str:
        return f"http://mmbiz.qpic.cn/wxsim/{self.media_id}/0"


@dataclass
class Draft:
    media_id: str
    articles: list[dict[str, Any]]
    update_time: int


@dataclass
class Publication:
    """One push of a draft's articles: a mass send (notified) or a free publish (not notified)."""

    msg_data_id: int
    articles: list[dict[str, Any]]  # a snapshot of the draft's articles when it went out
    sent_at: int
    notified: bool  # mass send: fans got a message; free publish: only the home page and search
    target_user: int  # fans it was delivered to (0 for a free publish)
    publish_id: int = 0  # free publish only
    article_id: str = ""  # free publish only
    status: int = 0  # free publish: publish_status (0 success, 5 deleted after success)
    deleted_idx: set[int] = field(default_factory=set)  # 1-based article positions deleted

    def msgid(self, idx: int) -> str:
        return f"{self.msg_data_id}_{idx}"

    def article_url(self, appid: str, idx: int) -> str:
        return f"https://mp.weixin.qq.com/s?__biz={appid}&mid={self.msg_data_id}&idx={idx}&sn=wxsim"


@dataclass(frozen=True)
class ReadEvent:
    """Ground truth of reading: a fan opened (or shared) article `idx` of a publication at `time`."""

    time: int
    openid: str
    msg_data_id: int
    idx: int
    kind: str  # read | share
    scene: str  # read: 公众号消息 (from the push) or 公众号主页 (home page); share: 聊天会话 or 朋友圈

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Content:
    media: dict[str, Media] = field(default_factory=dict)  # temporary, 3 days
    materials: dict[str, Media] = field(default_factory=dict)  # permanent
    drafts: dict[str, Draft] = field(default_factory=dict)
    publications: dict[int, Publication] = field(default_factory=dict)  # by msg_data_id
    publish_jobs: dict[int, int] = field(default_factory=dict)  # publish_id -> msg_data_id
    articles: dict[str, int] = field(default_factory=dict)  # article_id -> msg_data_id
    reads: list[ReadEvent] = field(default_factory=list)
    next_id: int = 1
    next_msg_data_id: int = 2247483001

    def new_id(self, prefix: str) -> str:
        self.next_id += 1
        return f"{prefix}{self.next_id:010d}"


@dataclass
class ReadingModel:
    """How fans read what an account pushes; set per account from a scenario (POST /wxsim/reading).

    Every default is an assumption (WeChat publishes no reading rates); the population engineer
    calibrates them. A fan's own chance is the account's times `Fan.read_affinity`, capped at 1.
    """

    read_probability: float = 0.05  # a recipient of a notified push (mass send) opens its first article
    publish_read_probability: float = 0.01  # a follower finds a free publish on the home page
    later_article_factor: float = 0.3  # articles 2..8 are opened this much less often than the first
    share_probability: float = 0.05  # a reader shares the article
    moments_share: float = 0.4  # of shares, the part to Moments (the rest to a chat)
    reads_per_share: float = 1.0  # friends who open a shared article (Poisson mean), read under its scene
    half_life_hours: float = 3.0  # the delay from delivery to reading is exponential with this half-life
    horizon_days: int = 30  # nobody reads later than this (getarticletotaldetail's 30-day window)
    # When set, maps (push time, delay in seconds of average time) to the time of the read, so reads
    # follow a daily rhythm (the population engine's reading rhythm); None: the delay as it is.
    rhythm: Callable[[float, float], float] | None = field(default=None, compare=False)

    def update(self, values: dict[str, Any]) -> None:
        unknown = set(values) - {name for name in self.__dict__ if name.endswith(NUMERIC)}
        if unknown:
            raise ValueError(f"unknown reading parameters: {', '.join(sorted(unknown))}")
        for name, value in values.items():
            number = float(value)
            if name.endswith(FRACTIONS) and not 0 <= number <= 1:
                raise ValueError(f"{name} must be between 0 and 1")
            if not 0 <= number <= MAX_READS_PER_SHARE:
                raise ValueError(f"{name} must be between 0 and {MAX_READS_PER_SHARE}")
            if name in ("half_life_hours", "horizon_days") and number <= 0:
                raise ValueError(f"{name} must be positive")
            setattr(self, name, int(number) if name == "horizon_days" else number)

    def as_dict(self) -> dict[str, Any]:
        return {name: value for name, value in self.__dict__.items() if name != "rhythm"}
