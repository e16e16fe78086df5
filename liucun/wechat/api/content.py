"""The message bodies customer-service messages and mass sends carry: each knows its msgtype and payload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class Text:
    content: str
    msgtype: ClassVar[str] = "text"

    def payload(self) -> dict[str, Any]:
        return {"content": self.content}


@dataclass(frozen=True)
class Image:
    media_id: str
    msgtype: ClassVar[str] = "image"

    def payload(self) -> dict[str, Any]:
        return {"media_id": self.media_id}


@dataclass(frozen=True)
class Voice:
    media_id: str
    msgtype: ClassVar[str] = "voice"

    def payload(self) -> dict[str, Any]:
        return {"media_id": self.media_id}


@dataclass(frozen=True)
class Video:
    """A customer-service video; a mass send takes MassVideo (an mpvideo media_id) instead."""

    media_id: str
    thumb_media_id: str = ""
    title: str = ""
    description: str = ""
    msgtype: ClassVar[str] = "video"

    def payload(self) -> dict[str, Any]:
        return {
            "media_id": self.media_id,
            "thumb_media_id": self.thumb_media_id,
            "title": self.title,
            "description": self.description,
        }


@dataclass(frozen=True)
class MassVideo:
    media_id: str
    msgtype: ClassVar[str] = "mpvideo"

    def payload(self) -> dict[str, Any]:
        return {"media_id": self.media_id}


@dataclass(frozen=True)
class Music:
    music_url: str
    hq_music_url: str
    thumb_media_id: str
    title: str = ""
    description: str = ""
    msgtype: ClassVar[str] = "music"

    def payload(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "description": self.description,
            "musicurl": self.music_url,
            "hqmusicurl": self.hq_music_url,
            "thumb_media_id": self.thumb_media_id,
        }


@dataclass(frozen=True)
class Link:
    """A link card (customer-service "news"): WeChat shows one article."""

    title: str
    url: str
    description: str = ""
    picture_url: str = ""
    msgtype: ClassVar[str] = "news"

    def payload(self) -> dict[str, Any]:
        article = {"title": self.title, "description": self.description, "url": self.url}
        return {"articles": [{**article, "picurl": self.picture_url}]}


@dataclass(frozen=True)
class Draft:
    """A draft's articles by its media_id (mpnews): mass sends and customer-service messages."""

    media_id: str
    msgtype: ClassVar[str] = "mpnews"

    def payload(self) -> dict[str, Any]:
        return {"media_id": self.media_id}


@dataclass(frozen=True)
class PublishedArticle:
    """A published article by its article_id (customer-service mpnewsarticle)."""

    article_id: str
    msgtype: ClassVar[str] = "mpnewsarticle"

    def payload(self) -> dict[str, Any]:
        return {"article_id": self.article_id}


@dataclass(frozen=True)
class Choices:
    """A customer-service menu message (msgmenu): the fan taps one choice, which comes back as text."""

    head: str
    choices: list[tuple[str, str]] = field(default_factory=list)  # (id, text)
    tail: str = ""
    msgtype: ClassVar[str] = "msgmenu"

    def payload(self) -> dict[str, Any]:
        items = [{"id": i, "content": text} for i, text in self.choices]
        return {"head_content": self.head, "list": items, "tail_content": self.tail}


@dataclass(frozen=True)
class Card:
    card_id: str
    msgtype: ClassVar[str] = "wxcard"

    def payload(self) -> dict[str, Any]:
        return {"card_id": self.card_id}


@dataclass(frozen=True)
class MiniProgramPage:
    title: str
    appid: str
    page_path: str
    thumb_media_id: str
    msgtype: ClassVar[str] = "miniprogrampage"

    def payload(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "appid": self.appid,
            "pagepath": self.page_path,
            "thumb_media_id": self.thumb_media_id,
        }


Message = (
    Text
    | Image
    | Voice
    | Video
    | MassVideo
    | Music
    | Link
    | Draft
    | PublishedArticle
    | Choices
    | Card
    | MiniProgramPage
)


def body(message: Message) -> dict[str, Any]:
    """{"msgtype": ..., <msgtype>: payload}: the part every send shares."""
    return {"msgtype": message.msgtype, message.msgtype: message.payload()}
