"""Reading a multipart/form-data upload (RFC 7578) the way WeChat's media endpoints take it.

The body is already bounded by the app (wxsim/app.py MAX_BODY_BYTES); parts are slices of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.I)
_PARAM = re.compile(r'(\w+)="([^"]*)"')


class MultipartError(ValueError):
    pass


@dataclass(frozen=True)
class Part:
    name: str
    filename: str
    content_type: str
    data: bytes


def parse(content_type: str, body: bytes) -> dict[str, Part]:
    """Parts by field name; a malformed body raises MultipartError."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise MultipartError("not multipart/form-data")
    found = _BOUNDARY.search(content_type)
    if found is None:
        raise MultipartError("no boundary")
    delimiter = b"--" + found.group(1).encode("latin-1")
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise MultipartError("no parts")
    parts: dict[str, Part] = {}
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break  # the closing delimiter
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise MultipartError("a part without headers")
        headers = {}
        for line in head.decode("utf-8", "replace").strip().split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        params = dict(_PARAM.findall(headers.get("content-disposition", "")))
        if "name" not in params:
            raise MultipartError("a part without a name")
        parts[params["name"]] = Part(
            params["name"],
            params.get("filename", ""),
            headers.get("content-type", ""),
            data[:-2] if data.endswith(b"\r\n") else data,
        )
    return parts
