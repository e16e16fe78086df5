"""The World: every simulated account and fan, the clock, the recorder and the ground truth.

All state lives in memory behind one lock; the HTTP layer and the control API only call methods here.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from typing import Any

from wxsim import errors as e
from wxsim.clock import Clock
from wxsim.errors import fail
from wxsim.model import ENCRYPTION_MODES, Account, Fan, Token, make_openid, make_token, make_unionid

TOKEN_LIFETIME = 7200
TOKEN_OVERLAP = 300  # a replaced token keeps working this long
FORCE_REFRESHES_A_DAY = 20
FORCE_REFRESH_SPACING = 30

DeliveryHook = Callable[[str, str, str, float, dict[str, Any]], None]


class World:
    def __init__(self, seed: int = 1) -> None:
        self.lock = threading.RLock()
        self.clock = Clock()
        self.reset(seed)

    def reset(self, seed: int | None = None) -> None:
        with self.lock:
            self.seed = seed if seed is not None else getattr(self, "seed", 1)
            self.rng = random.Random(self.seed)
            self.accounts: dict[str, Account] = {}
            self.tokens: dict[str, tuple[str, Token]] = {}
            self.recorder: list[dict[str, Any]] = []
            self.truth: list[dict[str, Any]] = []
            self.next_msg_id = 10**16 + self.seed * 10**9
            self.token_seq = 0
            for run in getattr(self, "populations", {}).values():
                run.stop()
            self.populations: dict[str, Any] = {}
            self.hooks: list[DeliveryHook] = []

    # --- accounts and fans --------------------------------------------------------------------------

    def add_account(self, spec: dict[str, Any]) -> Account:
        required = ("appid", "secret", "token", "encoding_aes_key", "original_id")
        missing = [name for name in required if not spec.get(name)]
        if missing:
            raise ValueError(f"missing account fields: {', '.join(missing)}")
        mode = spec.get("mode", "safe")
        if mode not in ENCRYPTION_MODES:
            raise ValueError(f"mode must be one of {', '.join(ENCRYPTION_MODES)}")
        if spec.get("remark_limit_unit", "bytes") not in ("bytes", "characters"):
            raise ValueError("remark_limit_unit is bytes or characters")
        allowed = {
            "appid",
            "secret",
            "token",
            "encoding_aes_key",
            "original_id",
            "name",
            "account_type",
            "verified",
            "mode",
            "callback_url",
            "open_platform",
            "remark_limit_unit",
        }
        unknown = set(spec) - allowed
        if unknown:
            raise ValueError(f"unknown account fields: {', '.join(sorted(unknown))}")
        with self.lock:
            if spec["appid"] in self.accounts:
                raise ValueError(f"account {spec['appid']} exists")
            account = Account(**spec)
            self.accounts[account.appid] = account
            return account

    def account(self, appid: str) -> Account:
        account = self.accounts.get(appid)
        if account is None:
            raise fail(e.INVALID_APPID)
        return account

    def add_fan(
        self,
        appid: str,
        *,
        openid: str | None = None,
        following: bool = True,
        subscribe_time: float | None = None,
        scene: str = "",
        refuses_messages: bool = False,
    ) -> Fan:
        """A fan who is simply there (for example followed before the simulation): no callback is sent."""
        with self.lock:
            account = self.account(appid)
            index = len(account.fan_order)
            openid = openid or make_openid(appid, self.seed, index)
            if openid in account.fans:
                raise ValueError(f"fan {openid} exists")
            fan = Fan(
                openid=openid, index=index, unionid=make_unionid(openid), refuses_messages=refuses_messages
            )
            account.fans[openid] = fan
            account.fan_order.append(openid)
            if following:
                self._follow(
                    account, fan, int(subscribe_time or self.clock.now()), scene, reason="pre-existing"
                )
            return fan

    def fan(self, account: Account, openid: str) -> Fan:
        fan = account.fans.get(openid)
        if fan is None:
            if any(openid in other.fans for other in self.accounts.values()):
                raise fail(e.OPENID_NOT_OF_APPID)
            raise fail(e.INVALID_OPENID)
        return fan

    def _follow(self, account: Account, fan: Fan, at: int, scene: str, reason: str) -> None:
        fan.following = True
        fan.subscribe_time = at
        if scene:
            fan.subscribe_scene = "ADD_SCENE_QR_CODE"
            if scene.isdigit():
                fan.qr_scene, fan.qr_scene_str = int(scene), ""
            else:
                fan.qr_scene, fan.qr_scene_str = 0, scene
        else:
            # user/info describes the latest follow: a refollow without a code keeps no old scene.
            fan.subscribe_scene, fan.qr_scene, fan.qr_scene_str = "ADD_SCENE_OTHERS", 0, ""
        self.truth.append(
            {
                "time": at,
                "appid": account.appid,
                "openid": fan.openid,
                "event": "follow",
                "scene": scene,
                "user_source": 30 if scene else 0,
                "reason": reason,
            }
        )

    def _unfollow(self, account: Account, fan: Fan, at: int, reason: str) -> None:
        fan.following = False
        fan.tags.clear()
        fan.remark = ""
        self.truth.append(
            {
                "time": at,
                "appid": account.appid,
                "openid": fan.openid,
                "event": "unfollow",
                "scene": "",
                "user_source": 0,
                "reason": reason,
            }
        )

    # --- tokens -------------------------------------------------------------------------------------

    def issue_token(self, account: Account, *, stable: bool, force: bool = False) -> Token:
        now = self.clock.now()
        with self.lock:
            if stable and not force:
                for token in account.tokens:
                    if (
                        token.stable
                        and token.expires_at - now > TOKEN_OVERLAP
                        and not self._stormed(account, token)
                    ):
                        return token
            if stable and force:
                day = [t for t in account.stable_force_refreshes if t > now - 86400]
                if len(day) >= FORCE_REFRESHES_A_DAY:
                    raise fail(e.API_LIMIT, "force_refresh 20 a day")
                if day and now - day[-1] < FORCE_REFRESH_SPACING:
                    raise fail(e.API_FREQ, "force_refresh at most every 30 s")
                account.stable_force_refreshes = [*day, now]
            # /token leaves the previous token 5 minutes; a forced stable_token refresh ends the previous
            # stable token at once (getStableAccessToken: "强制刷新模式，会导致上次获取的access_token失效").
            cut_to = now if stable and force else now + TOKEN_OVERLAP
            for token in account.tokens:
                if token.stable == stable:
                    token.expires_at = min(token.expires_at, cut_to)
            self.token_seq += 1
            account.tokens_issued += 1
            token = Token(make_token(self.rng), now, now + TOKEN_LIFETIME, stable, self.token_seq)
            account.tokens = [t for t in account.tokens if t.expires_at > now] + [token]
            self.tokens[token.value] = (account.appid, token)
            return token

    def _stormed(self, account: Account, token: Token) -> bool:
        return account.faults.token_storm and token.seq < (account.storm_before_seq or 0)

    def start_token_storm(self, account: Account) -> None:
        with self.lock:
            account.storm_before_seq = self.token_seq + 1

    def account_for_token(self, value: str | None) -> Account:
        if not value:
            raise fail(e.MISSING_TOKEN)
        entry = self.tokens.get(value)
        if entry is None:
            raise fail(e.INVALID_CREDENTIAL if len(value) > 20 else e.INVALID_ACCESS_TOKEN)
        appid, token = entry
        account = self.accounts[appid]
        if self._stormed(account, token):
            raise fail(e.INVALID_CREDENTIAL)
        now = self.clock.now()
        if token.expires_at <= now:
            # Past its own 7200 s it has expired; cut short by a newer token it is "not latest".
            raise fail(
                e.ACCESS_TOKEN_EXPIRED if token.issued_at + TOKEN_LIFETIME <= now else e.INVALID_CREDENTIAL
            )
        return account

    # --- recorder -----------------------------------------------------------------------------------

    def record(self, appid: str, openid: str, kind: str, detail: dict[str, Any]) -> None:
        at = self.clock.now()
        with self.lock:
            self.recorder.append(
                {"time": at, "appid": appid, "openid": openid, "kind": kind, "detail": detail}
            )
        for hook in list(self.hooks):
            hook(appid, openid, kind, at, detail)

    def on_delivery(self, hook: DeliveryHook) -> None:
        """Call `hook(appid, openid, kind, time, detail)` whenever a fan receives something."""
        self.hooks.append(hook)

    def new_msg_id(self) -> int:
        with self.lock:
            self.next_msg_id += 1
            return self.next_msg_id
