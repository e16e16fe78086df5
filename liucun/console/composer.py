"""The composer's fields as a customer-service message body: shared by the fan page and the inbox.

The outbound app checks the body against WeChat's limits (outbound.content), naming the field.
"""

from __future__ import annotations

from typing import Any

KINDS = ("text", "image", "news")


def composed(form: Any, text_field: str = "content") -> dict[str, Any]:
    kind = form.get("kind", "text")
    if kind == "image":
        return {"msgtype": "image", "image": {"media_id": form.get("media_id", "").strip()}}
    if kind == "news":
        article = {name: form.get(name, "").strip() for name in ("title", "description", "url", "picurl")}
        return {"msgtype": "news", "news": {"articles": [article]}}
    if kind == "text":
        return {"msgtype": "text", "text": {"content": form.get(text_field, "")}}
    return {"msgtype": str(kind)[:40]}
