"""The WSGI application: one World behind every endpoint."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from wxsim.api import control, custom, menus_qr, oauth_datacube, push, tokens, users  # noqa: F401 - routes
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


class WxsimApp:
    def __init__(self, world: World) -> None:
        self.world = world

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        request = Request(
            world=self.world,
            method=environ.get("REQUEST_METHOD", "GET"),
            path=environ.get("PATH_INFO", "/"),
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            body=body,
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
