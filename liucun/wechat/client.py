"""The one outbound seam for WeChat HTTP. Every call Liucun makes to WeChat (or wxsim) goes through here.

Per-account base URL, timeouts, typed errors, a bounded number of retries for transient failures, and a
token refresh only on the three codes that mean the token is bad (40001/40014/42001), at most
`max_token_refreshes` times per call. The token itself comes from a TokenProvider shared by processes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from liucun.wechat.apierrors import (
    TOKEN_ERRCODES,
    NotConnected,
    PermanentError,
    RetryableError,
    TokenError,
    WeChatAPIError,
    error_for,
)

log = logging.getLogger(__name__)


class TokenProvider(Protocol):
    def get(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


@dataclass(frozen=True)
class FetchedToken:
    token: str
    expires_in: int


@dataclass(frozen=True)
class UploadFile:
    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class Download:
    content: bytes
    content_type: str


class WeChatClient:
    def __init__(
        self,
        *,
        base_url: str,
        appid: str,
        secret: str,
        tokens: TokenProvider | None = None,
        timeout: float = 10.0,
        max_retries: int = 2,
        max_token_refreshes: int = 1,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self._secret = secret
        self.tokens = tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.max_token_refreshes = max_token_refreshes
        self._http = http or httpx.Client(timeout=timeout, headers={"User-Agent": "liucun"})
        self._sleep = sleep

    # --- tokens ------------------------------------------------------------------------------------

    def fetch_token(self, *, force_refresh: bool = False, rejected: str | None = None) -> FetchedToken:
        """A token from stable_token (falling back to /cgi-bin/token where stable_token is missing).

        stable_token hands back the same token while WeChat thinks it valid; when that token is the one
        WeChat just refused, ask once more with force_refresh.
        """
        try:
            fetched = self._stable_token(force_refresh)
            if rejected is not None and fetched.token == rejected and not force_refresh:
                fetched = self._stable_token(True)
            return fetched
        except PermanentError as exc:
            # A wrong secret or appid, or a server IP missing from the whitelist (40164): no token to be had.
            raise TokenError(exc.path, exc.errcode, exc.errmsg) from None
        except _EndpointMissing:
            log.info("stable_token unavailable at %s; using /cgi-bin/token", self.base_url)
        try:
            data = self._request(
                "GET",
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self._secret},
                with_token=False,
                idempotent=True,
            )
        except PermanentError as exc:
            raise TokenError(exc.path, exc.errcode, exc.errmsg) from None
        return _fetched(data, "/cgi-bin/token")

    def _stable_token(self, force_refresh: bool) -> FetchedToken:
        body = {
            "grant_type": "client_credential",
            "appid": self.appid,
            "secret": self._secret,
            "force_refresh": force_refresh,
        }
        data = self._request(
            "POST", "/cgi-bin/stable_token", json_body=body, with_token=False, idempotent=True
        )
        return _fetched(data, "/cgi-bin/stable_token")

    # --- API calls ---------------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("GET", path, params=params, idempotent=True)

    def post(self, path: str, body: dict[str, Any], *, idempotent: bool = False) -> dict[str, Any]:
        return self._call("POST", path, json_body=body, idempotent=idempotent)

    def get_bytes(self, path: str, params: dict[str, Any]) -> bytes:
        response = self._send("GET", path, params=params, json_body=None)
        return response.content

    def download_from(self, host: str, path: str, params: dict[str, Any]) -> Download:
        """A file another WeChat host serves without a token (the QR code image on mp.weixin.qq.com),
        with this client's timeouts, retries and typed errors."""
        return self._request(
            "GET", path, params=params, with_token=False, idempotent=True, raw=True, base_url=host
        )

    def upload(
        self,
        path: str,
        *,
        params: dict[str, Any],
        field: str,
        file: UploadFile,
        form: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """A multipart upload (media, materials): the file in `field`, plus plain form fields."""
        files = {field: (file.filename, file.content, file.content_type)}
        return self._call("POST", path, params=params, files=files, form=form, idempotent=False)

    def download(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Download:
        """A call answered with a file (media/get, material/get_material); a JSON answer with an errcode
        is raised as the typed error, other JSON comes back as it is (news materials are JSON)."""
        answer = self._call(
            "GET" if method == "GET" else "POST",
            path,
            params=params,
            json_body=body,
            idempotent=True,
            raw=True,
        )
        assert isinstance(answer, Download)
        return answer

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        idempotent: bool,
        raw: bool = False,
    ) -> Any:
        if self.tokens is None:
            raise TokenError(path, None, "this client has no token provider")
        refreshes = 0
        while True:
            token = self.tokens.get()
            try:
                return self._request(
                    method,
                    path,
                    params=params,
                    json_body=json_body,
                    files=files,
                    form=form,
                    token=token,
                    idempotent=idempotent,
                    raw=raw,
                )
            except TokenError as exc:
                if exc.errcode not in TOKEN_ERRCODES or refreshes >= self.max_token_refreshes:
                    raise
                refreshes += 1
                log.warning(
                    "WeChat refused the access token of %s (errcode %s); refreshing once",
                    self.appid,
                    exc.errcode,
                )
                self.tokens.invalidate(token)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        token: str | None = None,
        with_token: bool = True,
        idempotent: bool,
        raw: bool = False,
        base_url: str | None = None,
    ) -> Any:
        query = dict(params or {})
        if with_token and token is not None:
            query["access_token"] = token
        attempt = 0
        while True:
            try:
                response = self._send(
                    method, path, params=query, json_body=json_body, files=files, form=form, base_url=base_url
                )
                return _download(path, response) if raw else _decode(path, response)
            except RetryableError as exc:
                # A send that may have reached WeChat (a timeout, a cut connection, a 5xx from its gateway)
                # is not repeated: WeChat has no idempotency key, and a fan would get it twice.
                if attempt >= self.max_retries or not (idempotent or exc.not_acted_on):
                    raise
                attempt += 1
                delay = min(2.0, 0.2 * 2 ** (attempt - 1))
                log.info(
                    "WeChat %s failed (%s); retry %d/%d in %.1fs",
                    path,
                    exc.errmsg,
                    attempt,
                    self.max_retries,
                    delay,
                )
                self._sleep(delay)

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any],
        json_body: dict[str, Any] | None,
        files: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        base_url: str | None = None,
    ) -> httpx.Response:
        content = None
        headers: dict[str, str] = {}
        if json_body is not None:
            # WeChat wants UTF-8 JSON; \uXXXX escapes of Chinese text are refused with 40033.
            content = json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            response = self._http.request(
                method,
                (base_url or self.base_url).rstrip("/") + path,
                params=params,
                content=content,
                files=files,
                data=form,
                headers=headers,
                timeout=self.timeout,
            )
        except httpx.ConnectError as exc:
            raise NotConnected(path, None, f"connection failed: {type(exc).__name__}") from None
        except httpx.ConnectTimeout:
            raise NotConnected(path, None, f"connection timed out after {self.timeout:.1f}s") from None
        except httpx.TimeoutException:
            raise RetryableError(path, None, f"timed out after {self.timeout:.1f}s") from None
        except httpx.TransportError as exc:
            raise RetryableError(path, None, f"connection failed: {type(exc).__name__}") from None
        if response.status_code == 404 and path == "/cgi-bin/stable_token":
            raise _EndpointMissing(path, None, "not found")
        if response.status_code >= 500:
            raise RetryableError(path, None, f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentError(path, None, f"HTTP {response.status_code}")
        return response

    def pinned(self) -> WeChatClient:
        """A client for helper threads: this client's connection pool and the token valid now, read (or
        refreshed) by the calling thread. It never refreshes: a refused token surfaces as TokenError, for
        the caller to retry with this client. Helper threads then never touch the token store (the
        database), whose transaction they could not see. Do not close it: the pool is shared."""
        token = self.tokens.get() if self.tokens is not None else ""
        return WeChatClient(
            base_url=self.base_url,
            appid=self.appid,
            secret=self._secret,
            tokens=_FixedToken(token),
            timeout=self.timeout,
            max_retries=self.max_retries,
            max_token_refreshes=0,
            http=self._http,
            sleep=self._sleep,
        )

    def __enter__(self) -> WeChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()


class _FixedToken:
    def __init__(self, token: str) -> None:
        self._token = token

    def get(self) -> str:
        return self._token

    def invalidate(self, token: str) -> None:
        pass


class _EndpointMissing(WeChatAPIError):
    pass


def _decode(path: str, response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise RetryableError(path, None, "answer is not JSON") from None
    if not isinstance(data, dict):
        raise PermanentError(path, None, "answer is not a JSON object")
    errcode = data.get("errcode", 0)
    if errcode not in (0, None):
        if path == "/cgi-bin/stable_token" and errcode == 48001:
            raise _EndpointMissing(path, errcode, str(data.get("errmsg", "")))
        raise error_for(path, int(errcode), str(data.get("errmsg", "")), data)
    return data


def _download(path: str, response: httpx.Response) -> Download:
    content_type = response.headers.get("content-type", "")
    # WeChat answers errors as JSON, sometimes labelled text/plain; a file is anything else.
    if "json" in content_type or (
        content_type.startswith("text/plain") and response.content.lstrip().startswith(b"{")
    ):
        _decode(path, response)  # raises the typed error when the answer carries an errcode
    return Download(content=response.content, content_type=content_type.split(";")[0].strip())


def _fetched(data: dict[str, Any], path: str) -> FetchedToken:
    token = data.get("access_token")
    expires_in = data.get("expires_in")
    if not isinstance(token, str) or not token or not isinstance(expires_in, int):
        raise TokenError(path, None, "answer has no access_token/expires_in")
    return FetchedToken(token=token, expires_in=expires_in)


__all__ = [
    "Download",
    "FetchedToken",
    "PermanentError",
    "RetryableError",
    "TokenError",
    "TokenProvider",
    "UploadFile",
    "WeChatAPIError",
    "WeChatClient",
]
