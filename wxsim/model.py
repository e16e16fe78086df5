"""wxsim's state: accounts, their fans, tokens and tags, and what happened to whom (recorder, truth)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from wxsim.content import Content, ReadingModel
from wxsim.traffic import Traffic

ENCRYPTION_MODES = ("plaintext", "compatible", "safe")
SYSTEM_TAGS = {0: "未分组", 1: "黑名单", 2: "星标组"}


@dataclass
class Faults:
    """Failures injected on an account's API calls; all off by default."""

    error_rate: float = 0.0  # share of calls answered errcode -1
    http5xx_rate: float = 0.0  # share of calls answered HTTP 503
    timeout_rate: float = 0.0  # share of calls that hang for `timeout_seconds`
    timeout_seconds: float = 15.0
    latency_ms: float = 0.0  # added to every call
    token_storm: bool = False  # every token is refused (40001) until one is fetched after the storm began
    quota_exhausted: list[str] = field(default_factory=list)  # API paths answered 45009
    # Scripted answers, used up in order by calls to their path: {"path", "errcode"} or {"path", "status"}
    # or {"path", "sleep"} (hang that long, then answer normally). Deterministic, for tests.
    script: list[dict[str, Any]] = field(default_factory=list)
    stable_token_missing: bool = False  # /cgi-bin/stable_token answers 404, as on an old gateway
    # The account's IP allow-list (公众平台 > 基本配置 > IP白名单): when set, calls from any other address
    # answer 40164, /cgi-bin/token included.
    ip_allowlist: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Token:
    value: str
    issued_at: float
    expires_at: float
    stable: bool
    seq: int = 0  # issue order across the world, so a token storm can refuse "every token so far"


@dataclass
class Fan:
    openid: str
    index: int
    unionid: str
    following: bool = False
    subscribe_time: int = 0  # latest follow
    subscribe_scene: str = "ADD_SCENE_OTHERS"
    qr_scene: int = 0
    qr_scene_str: str = ""
    remark: str = ""
    tags: list[int] = field(default_factory=list)
    blacklisted: bool = False
    refuses_messages: bool = False
    last_message_at: float | None = None  # opens the 48 h window (5 customer-service messages)
    last_event_at: float | None = None  # click / follow / scan: 1 minute window (3 messages)
    cs_sent: list[float] = field(default_factory=list)  # customer-service sends, for window counts
    mass_received: list[float] = field(default_factory=list)  # for the service-account monthly quota
    consents: dict[str, int] = field(default_factory=dict)  # subscription-notification grants by template
    read_affinity: float = 1.0  # multiplies the account's reading probabilities (wxsim/reading.py)
    typing_until: float = 0.0  # a Typing command holds for 15 s; another one before then is 45081

    def info(self, *, with_unionid: bool = True) -> dict[str, Any]:
        # unionid is only there when the account is bound to an open-platform account (UnionID机制说明).
        union = {"unionid": self.unionid} if with_unionid else {}
        if not self.following:
            return {"subscribe": 0, "openid": self.openid, **union}
        return {
            "subscribe": 1,
            "openid": self.openid,
            "language": "zh_CN",
            "subscribe_time": self.subscribe_time,
            **union,
            "remark": self.remark,
            "groupid": 0,
            "tagid_list": list(self.tags),
            "subscribe_scene": self.subscribe_scene,
            "qr_scene": self.qr_scene,
            "qr_scene_str": self.qr_scene_str,
        }


@dataclass
class Account:
    appid: str
    secret: str
    token: str
    encoding_aes_key: str
    original_id: str
    name: str = "wxsim account"
    account_type: str = "service"
    verified: bool = True
    mode: str = "safe"
    callback_url: str = ""
    open_platform: bool = True  # bound to an open-platform account: user/info carries unionid
    # updateremark's "小于30" counts bytes or characters: the page says 字符, the issue records bytes
    # (unconfirmed, so a setting; docs/wxsim.md).
    remark_limit_unit: str = "bytes"
    fans: dict[str, Fan] = field(default_factory=dict)
    fan_order: list[str] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    api_calls: dict[str, int] = field(default_factory=dict)  # today's calls by path (wxsim/quota.py)
    api_calls_day: str = ""  # the China day api_calls counts
    quota_clears: list[float] = field(default_factory=list)  # clear_quota uses, 10 a month
    tokens_issued: int = 0  # new tokens created (by /token or stable_token), for tests of token sharing
    stable_force_refreshes: list[float] = field(default_factory=list)
    tags: dict[int, str] = field(default_factory=dict)
    next_tag_id: int = 100
    faults: Faults = field(default_factory=Faults)
    mass_jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    mass_clientmsgids: dict[str, tuple[int, float]] = field(default_factory=dict)
    mass_days: list[float] = field(default_factory=list)  # subscription accounts: one a day
    mass_to_all_days: list[float] = field(default_factory=list)  # service accounts: is_to_all once a day
    mass_digests: dict[str, tuple[int, float]] = field(default_factory=dict)  # sends without clientmsgid
    kf_accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # customer-service staff
    kf_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)  # by fan openid
    kf_waiting: dict[str, dict[str, Any]] = field(default_factory=dict)  # fans queued for an agent
    industry: tuple[int, int] | None = None  # template-message industries (api_set_industry)
    industry_changed_at: float | None = None  # the industries change at most once a month
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # template-message library
    subscribe_templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # 订阅通知 templates
    next_msg_seq: int = 1000000001
    menu: list[dict[str, Any]] | None = None
    conditional_menus: list[dict[str, Any]] = field(default_factory=list)
    qrcodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    oauth_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    storm_before_seq: int | None = None  # during a token storm, tokens issued before this are refused
    content: Content = field(default_factory=Content)  # media, materials, drafts, publications, reads
    reading: ReadingModel = field(default_factory=ReadingModel)
    traffic: Traffic = field(default_factory=Traffic)  # fans' messages and callbacks, for the datacube

    def public(self) -> dict[str, Any]:
        return {
            "appid": self.appid,
            "original_id": self.original_id,
            "name": self.name,
            "type": self.account_type,
            "verified": self.verified,
            "mode": self.mode,
            "callback_url": self.callback_url,
            "fans": len(self.fans),
            "following": sum(1 for f in self.fans.values() if f.following),
            "tokens_issued": self.tokens_issued,
            "open_platform": self.open_platform,
        }


def make_openid(appid: str, seed: int, index: int) -> str:
    """A 28-character openid like WeChat's, deterministic for (appid, seed, index)."""
    digest = hashlib.sha256(f"{appid}:{seed}:{index}".encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "o" + "".join(alphabet[b % 64] for b in digest[:27])


def make_unionid(openid: str) -> str:
    return "u" + hashlib.sha256(("union:" + openid).encode()).hexdigest()[:27]


def make_token(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
    return "".join(rng.choice(alphabet) for _ in range(136))
