"""WeChat's signatures: SHA-1 over the sorted, concatenated parameters."""

from __future__ import annotations

import hashlib


def sorted_sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324 - WeChat's scheme
