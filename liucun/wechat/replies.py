"""Passive replies (被动回复): the XML answered to a callback, with the platform's limits."""

from __future__ import annotations

from dataclasses import dataclass

from liucun.wechat.errors import ReplyLimitError

SUCCESS = "success"  # answering this (or nothing) means "no reply"

# WeChat documents 2048 bytes as the text limit of customer-service messages; we hold passive replies to
# the same bound, the conservative choice where the passive-reply documentation gives none.
TEXT_MAX_BYTES = 2048
NEWS_MAX_ARTICLES = 8


def _cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _head(to_user: str, from_user: str, create_time: int, msg_type: str) -> str:
    return (
        f"<ToUserName>{_cdata(to_user)}</ToUserName><FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(create_time)}</CreateTime><MsgType>{_cdata(msg_type)}</MsgType>"
    )


@dataclass(frozen=True)
class TextReply:
    content: str

    def __post_init__(self) -> None:
        if not self.content.strip():
            raise ReplyLimitError("a text reply cannot be empty")
        size = len(self.content.encode("utf-8"))
        if size > TEXT_MAX_BYTES:
            raise ReplyLimitError(f"a text reply is at most {TEXT_MAX_BYTES} bytes, this one is {size}")

    def render(self, *, to_user: str, from_user: str, create_time: int) -> str:
        head = _head(to_user, from_user, create_time, "text")
        return f"<xml>{head}<Content>{_cdata(self.content)}</Content></xml>"


@dataclass(frozen=True)
class ImageReply:
    media_id: str

    def render(self, *, to_user: str, from_user: str, create_time: int) -> str:
        head = _head(to_user, from_user, create_time, "image")
        return f"<xml>{head}<Image><MediaId>{_cdata(self.media_id)}</MediaId></Image></xml>"


@dataclass(frozen=True)
class VoiceReply:
    media_id: str

    def render(self, *, to_user: str, from_user: str, create_time: int) -> str:
        head = _head(to_user, from_user, create_time, "voice")
        return f"<xml>{head}<Voice><MediaId>{_cdata(self.media_id)}</MediaId></Voice></xml>"


@dataclass(frozen=True)
class VideoReply:
    media_id: str
    title: str | None = None
    description: str | None = None

    def render(self, *, to_user: str, from_user: str, create_time: int) -> str:
        head = _head(to_user, from_user, create_time, "video")
        extra = ""
        if self.title is not None:
            extra += f"<Title>{_cdata(self.title)}</Title>"
        if self.description is not None:
            extra += f"<Description>{_cdata(self.description)}</Description>"
        return f"<xml>{head}<Video><MediaId>{_cdata(self.media_id)}</MediaId>{extra}</Video></xml>"


@dataclass(frozen=True)
class MusicReply:
    title: str
    description: str
    music_url: str
    hq_music_url: str
    thumb_media_id: str

    def render(self, *, to_user: str, from_user: str, create_time: int) -> str:
        head = _head(to_user, from_user, create_time, "music")
        return (
            f"<xml>{head}<Music><Title>{_cdata(self.title)}</Title>"
            f"<Description>{_cdata(self.description)}</Description><MusicUrl>{_cdata(self.music_url)}</MusicUrl>"
            f"<HQMusicUrl>{_cdata(self.hq_music_url)}</HQMusicUrl>"
            f"<ThumbMediaId>{_cdata(self.thumb_media_id)}</ThumbMediaId></Music></xml>"
        )


@dataclass(frozen=True)
class Article:
    title: str
    description: str
    pic_url: str
    url: str


@dataclass(frozen=True)
class NewsReply:
    articles: tuple[Article, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.articles) <= NEWS_MAX_ARTICLES:
            raise ReplyLimitError(
                f"a news reply has 1 to {NEWS_MAX_ARTICLES} articles, not {len(self.articles)}"
            )

    def render(
        self, *, to_user: str, from_user: str, create_time: int, answering_message: bool = True
    ) -> str:
        if answering_message and len(self.articles) > 1:
            raise ReplyLimitError("a news reply to a fan's message may carry only 1 article")
        head = _head(to_user, from_user, create_time, "news")
        items = "".join(
            f"<item><Title>{_cdata(a.title)}</Title><Description>{_cdata(a.description)}</Description>"
            f"<PicUrl>{_cdata(a.pic_url)}</PicUrl><Url>{_cdata(a.url)}</Url></item>"
            for a in self.articles
        )
        return (
            f"<xml>{head}<ArticleCount>{len(self.articles)}</ArticleCount><Articles>{items}</Articles></xml>"
        )


@dataclass(frozen=True)
class TransferCustomerServiceReply:
    kf_account: str | None = None

    def render(self, *, to_user: str, from_user: str, create_time: int) -> str:
        head = _head(to_user, from_user, create_time, "transfer_customer_service")
        target = ""
        if self.kf_account:
            target = f"<TransInfo><KfAccount>{_cdata(self.kf_account)}</KfAccount></TransInfo>"
        return f"<xml>{head}{target}</xml>"


Reply = (
    TextReply | ImageReply | VoiceReply | VideoReply | MusicReply | NewsReply | TransferCustomerServiceReply
)
