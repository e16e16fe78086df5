"""Drafts (草稿箱) and publishing (发布): write a draft, submit it, follow the publish job, list and delete.

A publish job ends with a PUBLISHJOBFINISH event; `publish_status` polls the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from liucun.wechat.api.limits import LimitError
from liucun.wechat.client import WeChatClient

DRAFT_ADD = "/cgi-bin/draft/add"
DRAFT_GET = "/cgi-bin/draft/get"
DRAFT_UPDATE = "/cgi-bin/draft/update"
DRAFTS = "/cgi-bin/draft/batchget"
DRAFT_DELETE = "/cgi-bin/draft/delete"
DRAFT_COUNT = "/cgi-bin/draft/count"
SUBMIT = "/cgi-bin/freepublish/submit"
PUBLISH_GET = "/cgi-bin/freepublish/get"
PUBLISHED = "/cgi-bin/freepublish/batchget"
PUBLISHED_ARTICLE = "/cgi-bin/freepublish/getarticle"
PUBLISHED_DELETE = "/cgi-bin/freepublish/delete"

ARTICLES_MAX = 8  # one draft holds 1 to 8 articles
PAGE_MAX = 20
TITLE_MAX_CHARS = 32
AUTHOR_MAX_CHARS = 16
DIGEST_MAX_CHARS = 128
TITLE_TOO_LONG, DIGEST_TOO_LONG, EMPTY_NEWS, TOO_MANY_ARTICLES = 45003, 45004, 44003, 45008


class PublishStatus(IntEnum):
    PUBLISHED = 0
    PUBLISHING = 1
    ORIGINALITY_FAILED = 2
    FAILED = 3
    REJECTED = 4  # 平台审核不通过
    DELETED_BY_USER = 5
    BANNED = 6


@dataclass(frozen=True)
class Article:
    """One article of a draft. `url` is filled in WeChat's answers only."""

    title: str
    content: str
    thumb_media_id: str
    author: str = ""
    digest: str = ""
    content_source_url: str = ""
    open_comment: bool = False
    only_fans_can_comment: bool = False
    url: str = ""  # in WeChat's answers only, as thumb_url
    thumb_url: str = ""

    def payload(self) -> dict[str, Any]:
        for what, value, limit, errcode in (
            ("title", self.title, TITLE_MAX_CHARS, TITLE_TOO_LONG),
            ("author", self.author, AUTHOR_MAX_CHARS, TITLE_TOO_LONG),
            ("digest", self.digest, DIGEST_MAX_CHARS, DIGEST_TOO_LONG),
        ):
            if len(value) > limit:
                raise LimitError(DRAFT_ADD, errcode, f"the {what} is longer than {limit} characters")
        if not self.title or not self.content or not self.thumb_media_id:
            raise LimitError(DRAFT_ADD, 47001, "an article needs a title, content and a thumb_media_id")
        return {
            "title": self.title,
            "author": self.author,
            "digest": self.digest,
            "content": self.content,
            "content_source_url": self.content_source_url,
            "thumb_media_id": self.thumb_media_id,
            "need_open_comment": int(self.open_comment),
            "only_fans_can_comment": int(self.only_fans_can_comment),
        }


def _article(item: dict[str, Any]) -> Article:
    return Article(
        title=str(item.get("title", "")),
        content=str(item.get("content", "")),
        thumb_media_id=str(item.get("thumb_media_id", "")),
        author=str(item.get("author", "")),
        digest=str(item.get("digest", "")),
        content_source_url=str(item.get("content_source_url", "")),
        open_comment=bool(item.get("need_open_comment", 0)),
        only_fans_can_comment=bool(item.get("only_fans_can_comment", 0)),
        url=str(item.get("url", "")),
        thumb_url=str(item.get("thumb_url", "")),
    )


@dataclass(frozen=True)
class Stored:
    """A draft or a published article in a listing."""

    id: str  # a draft's media_id, a published article's article_id
    update_time: int
    articles: list[Article]


@dataclass(frozen=True)
class Listing:
    total: int
    items: list[Stored]


@dataclass(frozen=True)
class Submitted:
    publish_id: str
    msg_data_id: int | None


@dataclass(frozen=True)
class PublishJob:
    publish_id: str
    status: PublishStatus
    article_id: str
    article_urls: list[str]
    failed_articles: list[int]  # indexes (from 1) refused for originality or review


def _page(path: str, offset: int, count: int) -> None:
    if not 1 <= count <= PAGE_MAX or offset < 0:
        raise LimitError(path, 40032, f"count must be 1 to {PAGE_MAX}, offset 0 or more")


def _listing(answer: dict[str, Any], key: str) -> Listing:
    items = [
        Stored(
            str(i[key]),
            int(i.get("update_time", 0)),
            [_article(a) for a in (i.get("content") or {}).get("news_item", [])],
        )
        for i in answer.get("item", [])
    ]
    return Listing(int(answer.get("total_count", 0)), items)


def add_draft(client: WeChatClient, articles: list[Article]) -> str:
    """A new draft of 1 to 8 articles; its media_id."""
    if not articles:
        raise LimitError(DRAFT_ADD, EMPTY_NEWS, "a draft needs an article")
    if len(articles) > ARTICLES_MAX:
        raise LimitError(DRAFT_ADD, TOO_MANY_ARTICLES, f"a draft holds at most {ARTICLES_MAX} articles")
    return str(client.post(DRAFT_ADD, {"articles": [a.payload() for a in articles]})["media_id"])


def draft(client: WeChatClient, media_id: str) -> list[Article]:
    answer = client.post(DRAFT_GET, {"media_id": media_id}, idempotent=True)
    return [_article(a) for a in answer.get("news_item", [])]


def update_draft(client: WeChatClient, media_id: str, index: int, article: Article) -> None:
    """Replace the article at `index` (from 0) of a draft."""
    client.post(
        DRAFT_UPDATE, {"media_id": media_id, "index": index, "articles": article.payload()}, idempotent=True
    )


def drafts(
    client: WeChatClient, offset: int = 0, count: int = PAGE_MAX, *, with_content: bool = True
) -> Listing:
    _page(DRAFTS, offset, count)
    answer = client.post(
        DRAFTS, {"offset": offset, "count": count, "no_content": 0 if with_content else 1}, idempotent=True
    )
    return _listing(answer, "media_id")


def delete_draft(client: WeChatClient, media_id: str) -> None:
    client.post(DRAFT_DELETE, {"media_id": media_id}, idempotent=True)


def draft_count(client: WeChatClient) -> int:
    return int(client.get(DRAFT_COUNT).get("total_count", 0))


def submit(client: WeChatClient, media_id: str) -> Submitted:
    """Publish a draft; the job runs in WeChat (PUBLISHJOBFINISH, or poll `publish_job`)."""
    answer = client.post(SUBMIT, {"media_id": media_id})
    data_id = answer.get("msg_data_id")
    return Submitted(str(answer["publish_id"]), int(data_id) if data_id is not None else None)


def publish_job(client: WeChatClient, publish_id: str) -> PublishJob:
    answer = client.post(PUBLISH_GET, {"publish_id": publish_id}, idempotent=True)
    detail = answer.get("article_detail") or {}
    return PublishJob(
        publish_id=str(answer.get("publish_id", publish_id)),
        status=PublishStatus(int(answer["publish_status"])),
        article_id=str(answer.get("article_id", "")),
        article_urls=[str(i.get("article_url", "")) for i in detail.get("item", [])],
        failed_articles=[int(i) for i in answer.get("fail_idx", [])],
    )


def published(
    client: WeChatClient, offset: int = 0, count: int = PAGE_MAX, *, with_content: bool = True
) -> Listing:
    _page(PUBLISHED, offset, count)
    answer = client.post(
        PUBLISHED, {"offset": offset, "count": count, "no_content": 0 if with_content else 1}, idempotent=True
    )
    return _listing(answer, "article_id")


def published_article(client: WeChatClient, article_id: str) -> list[Article]:
    answer = client.post(PUBLISHED_ARTICLE, {"article_id": article_id}, idempotent=True)
    return [_article(a) for a in answer.get("news_item", [])]


def delete_published(client: WeChatClient, article_id: str, index: int = 0) -> None:
    """Delete a published article (0: all of it; n: its n-th article). It cannot be undone."""
    client.post(PUBLISHED_DELETE, {"article_id": article_id, "index": index}, idempotent=True)
