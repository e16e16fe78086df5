"""A message body ({"msgtype": kind, kind: {...}}) to the typed message, checked against WeChat's limits.

The body is the one message/custom/send takes (without touser), so what the log stores is what was sent.
A break of a limit is refused with the field named, before anything is stored or sent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext_lazy as _

from liucun.outbound.refusals import ContentRefused
from liucun.wechat.api import content as c

TEXT_MAX_BYTES = 2048  # a customer-service text message
ID_MAX_CHARS = 256  # media ids, card ids: WeChat's are far shorter; a longer one is a paste error
URL_MAX_BYTES = 1024
TITLE_MAX_BYTES = 192  # 64 Chinese characters
DESCRIPTION_MAX_BYTES = 1024
CHOICES_MAX = 10
KINDS = (
    "text",
    "image",
    "voice",
    "video",
    "music",
    "news",
    "mpnews",
    "mpnewsarticle",
    "msgmenu",
    "wxcard",
    "miniprogrampage",
)


def parse(content: Any) -> c.Message:
    """The typed message for a body, or ContentRefused naming the field that is wrong."""
    if not isinstance(content, dict):
        raise ContentRefused(_("The message must be an object with a msgtype."))
    kind = content.get("msgtype")
    if kind not in KINDS:
        raise ContentRefused(
            _("msgtype: %(kind)s is not a customer-service message type (one of %(kinds)s)."),
            {"kind": str(kind)[:40], "kinds": ", ".join(KINDS)},
        )
    body = content.get(kind)
    if not isinstance(body, dict):
        raise ContentRefused(_("%(field)s: an object is required."), {"field": kind})
    return BUILDERS[kind](_Fields(kind, body), body)


def normalized(message: c.Message) -> dict[str, Any]:
    """The body as it will be sent (and stored): defaults filled in, unknown fields dropped."""
    return c.body(message)


def summary(content: dict[str, Any], limit: int = 80) -> str:
    """One line for lists: the text, or the kind and title/id."""
    kind = str(content.get("msgtype", ""))
    body = content.get(kind) or {}
    if not isinstance(body, dict):
        return kind
    if kind == "text":
        text = str(body.get("content", ""))
    elif kind == "news":
        articles = body.get("articles") or [{}]
        text = str(articles[0].get("title", "")) if isinstance(articles[0], dict) else ""
    else:
        text = str(
            body.get("title") or body.get("media_id") or body.get("article_id") or body.get("card_id") or ""
        )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _link(body: dict[str, Any]) -> c.Link:
    articles = body.get("articles")
    if not isinstance(articles, list) or len(articles) != 1 or not isinstance(articles[0], dict):
        raise ContentRefused(_("news.articles: a customer-service news message holds exactly 1 article."))
    a = _Fields("news.articles[0]", articles[0])
    return c.Link(
        a.text("title", TITLE_MAX_BYTES),
        a.url("url"),
        a.text("description", DESCRIPTION_MAX_BYTES, required=False),
        a.url("picurl", required=False),
    )


def _choices(f: _Fields, body: dict[str, Any]) -> c.Choices:
    items = body.get("list")
    if not isinstance(items, list) or not 1 <= len(items) <= CHOICES_MAX:
        raise ContentRefused(
            _("%(field)s: 1 to %(max)s choices are required."), {"field": "msgmenu.list", "max": CHOICES_MAX}
        )
    choices = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise ContentRefused(_("%(field)s: an object is required."), {"field": f"msgmenu.list[{i}]"})
        one = _Fields(f"msgmenu.list[{i}]", item)
        choices.append((one.ident("id"), one.text("content", TITLE_MAX_BYTES)))
    return c.Choices(
        f.text("head_content", TEXT_MAX_BYTES, required=False),
        choices,
        f.text("tail_content", TEXT_MAX_BYTES, required=False),
    )


class _Fields:
    def __init__(self, where: str, body: dict[str, Any]) -> None:
        self.where, self.body = where, body

    def _string(self, name: str, required: bool) -> str:
        value = self.body.get(name, "")
        field = f"{self.where}.{name}"
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ContentRefused(_("%(field)s: text is required."), {"field": field})
        if required and not value.strip():
            raise ContentRefused(_("%(field)s: this field is required."), {"field": field})
        return value

    def text(self, name: str, max_bytes: int, *, required: bool = True) -> str:
        value = self._string(name, required)
        size = len(value.encode("utf-8"))
        if size > max_bytes:
            raise ContentRefused(
                _("%(field)s: at most %(max)s bytes (WeChat's limit), this is %(size)s."),
                {"field": f"{self.where}.{name}", "max": max_bytes, "size": size},
            )
        return value

    def ident(self, name: str, *, required: bool = True) -> str:
        value = self._string(name, required).strip()
        if len(value) > ID_MAX_CHARS or any(ch.isspace() for ch in value):
            raise ContentRefused(
                _("%(field)s: not a WeChat id (no spaces, at most %(max)s characters)."),
                {"field": f"{self.where}.{name}", "max": ID_MAX_CHARS},
            )
        return value

    def url(self, name: str, *, required: bool = True) -> str:
        value = self.text(name, URL_MAX_BYTES, required=required).strip()
        if value and not value.startswith(("http://", "https://")):
            raise ContentRefused(
                _("%(field)s: a web address starting with http:// or https:// is required."),
                {"field": f"{self.where}.{name}"},
            )
        return value


def _video(f: _Fields, body: dict[str, Any]) -> c.Video:
    return c.Video(
        f.ident("media_id"),
        f.ident("thumb_media_id", required=False),
        f.text("title", TITLE_MAX_BYTES, required=False),
        f.text("description", DESCRIPTION_MAX_BYTES, required=False),
    )


def _music(f: _Fields, body: dict[str, Any]) -> c.Music:
    return c.Music(
        f.url("musicurl"),
        f.url("hqmusicurl"),
        f.ident("thumb_media_id"),
        f.text("title", TITLE_MAX_BYTES, required=False),
        f.text("description", DESCRIPTION_MAX_BYTES, required=False),
    )


def _mini_program(f: _Fields, body: dict[str, Any]) -> c.MiniProgramPage:
    return c.MiniProgramPage(
        f.text("title", TITLE_MAX_BYTES), f.ident("appid"), f.ident("pagepath"), f.ident("thumb_media_id")
    )


BUILDERS: dict[str, Callable[[_Fields, dict[str, Any]], c.Message]] = {
    "text": lambda f, _body: c.Text(f.text("content", TEXT_MAX_BYTES)),
    "image": lambda f, _body: c.Image(f.ident("media_id")),
    "voice": lambda f, _body: c.Voice(f.ident("media_id")),
    "video": _video,
    "music": _music,
    "news": lambda _f, body: _link(body),
    "mpnews": lambda f, _body: c.Draft(f.ident("media_id")),
    "mpnewsarticle": lambda f, _body: c.PublishedArticle(f.ident("article_id")),
    "msgmenu": _choices,
    "wxcard": lambda f, _body: c.Card(f.ident("card_id")),
    "miniprogrampage": _mini_program,
}
