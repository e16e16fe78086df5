"""The WSGI application: one World behind every endpoint."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from wxsim.api import (  # noqa: F401 - each module registers its routes
    content_control,
    control,
    custom,
    datacube,
    datacube_articles,
    drafts,
    kf,
    media,
    menus_qr,
    oauth_datacube,
    publishing,
    push,
    quotas,
    templates,
    tokens,
    users,
)
from wxsim.api import tags as tag_routes  # noqa: F401
from wxsim.api.routing import Request, dispatch
from wxsim.world import World

_REASONS = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    404: "Not Found",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


# The largest upload WeChat takes is 10 MB (an image or a video, wxsim/api/media.py), plus the multipart
# framing; a bigger body is read and dropped in chunks so that memory stays bounded.
MAX_BODY_BYTES = 10 * 1024 * 1024 + 64 * 1024


def _drain(stream: Any, length: int) -> bytes:
    while length > 0:
        chunk = stream.read(min(length, 65536))
        if not chunk:
            break
        length -= len(chunk)
    return b""


class WxsimApp:
    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        too_large = length > MAX_BODY_BYTES
        body = _drain(environ["wsgi.input"], length) if too_large else environ["wsgi.input"].read(length)
        request = Request(
            world=self.world,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", "/"),
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            body=body,
            content_type=environ.get("CONTENT_TYPE", ""),
            body_too_large=too_large,
            remote_addr=environ.get("REMOTE_ADDR", ""),
        )
        response = dispatch(request)
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            *response.headers,
        ]
        start_response(f"{response.status} {_REASONS.get(response.status, 'Error')}", headers)
        return [response.body]


def load_accounts(world: World, path: Path) -> None:
    for spec in json.loads(path.read_text(encoding="utf-8")):
        world.add_account(spec)


def create_app() -> WxsimApp:
    """For servers that import a factory: seed and accounts from WXSIM_SEED / WXSIM_ACCOUNTS."""
    world = World(seed=int(os.environ.get("WXSIM_SEED", "1")))
    accounts = os.environ.get("WXSIM_ACCOUNTS")
    if accounts:
        load_accounts(world, Path(accounts))
    return WxsimApp(world)
