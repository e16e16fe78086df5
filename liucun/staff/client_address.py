"""Who is asking: the client's address, believing X-Forwarded-For only from configured proxies.

Behind a reverse proxy every request comes from the proxy's address, so throttling by REMOTE_ADDR would
lock everybody out together. Believing X-Forwarded-For from anyone would let a client name any address
it likes. So the header is read only when the request came from LIUCUN_TRUSTED_PROXIES, from the right:
the first address that is not itself a trusted proxy is the client.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(configured: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n, strict=False) for n in configured)


def _trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in _networks(tuple(settings.LIUCUN_TRUSTED_PROXIES)))


def client_address(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR") or None
    if remote is None or not _trusted(remote):
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    for address in reversed(forwarded):
        if not _trusted(address):
            try:
                return str(ipaddress.ip_address(address))
            except ValueError:
                return remote  # a proxy that forwards garbage: fall back to the proxy itself
    return remote
