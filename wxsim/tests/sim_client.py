"""wechatpy's WeChatClient pointed at a wxsim server: the independent client of the protocol tests."""

from __future__ import annotations

from typing import Any

from wechatpy import WeChatClient

WECHAT_HOST = "https://api.weixin.qq.com/"


class SimClient(WeChatClient):  # type: ignore[misc]
    """Every call, the absolute URLs of wechatpy's customer-service API included, goes to wxsim."""

    def __init__(self, base: str, appid: str, secret: str) -> None:
        super().__init__(appid, secret)
        self.base = base.rstrip("/")
        self.API_BASE_URL = f"{self.base}/cgi-bin/"

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=f"{self.base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        if url_or_endpoint.startswith(WECHAT_HOST):
            url_or_endpoint = f"{self.base}/{url_or_endpoint[len(WECHAT_HOST) :]}"
        if str(kwargs.get("api_base_url", "")).startswith(WECHAT_HOST):  # datacube's own base
            kwargs["api_base_url"] = f"{self.base}/{kwargs['api_base_url'][len(WECHAT_HOST) :]}"
        return super()._request(method, url_or_endpoint, **kwargs)
