"""wxsim's state: accounts, their fans, tokens and tags, and what happened to whom (recorder, truth)."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

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

    def info(self) -> dict[str, Any]:
        if not self.following:
            return {"subscribe": 0, "openid": self.openid, "unionid": self.unionid}
        return {
            "subscribe": 1,
            "openid": self.openid,
            "language": "zh_CN",
            "subscribe_time": self.subscribe_time,
            "unionid": self.unionid,
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
    fans: dict[str, Fan] = field(default_factory=dict)
    fan_order: list[str] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)
    token_fetches_today: int = 0
    tokens_issued: int = 0  # new tokens created (by /token or stable_token), for tests of token sharing
    stable_force_refreshes: list[float] = field(default_factory=list)
    tags: dict[int, str] = field(default_factory=dict)
    next_tag_id: int = 100
    faults: Faults = field(default_factory=Faults)
    mass_jobs: dict[int, dict[str, Any]] = field(default_factory=dict)
    mass_clientmsgids: dict[str, tuple[int, float]] = field(default_factory=dict)
    mass_days: list[float] = field(default_factory=list)  # subscription accounts: one a day
    next_msg_seq: int = 1000000001
    menu: list[dict[str, Any]] | None = None
    conditional_menus: list[dict[str, Any]] = field(default_factory=list)
    qrcodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    oauth_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    storm_before_seq: int | None = None  # during a token storm, tokens issued before this are refused

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
