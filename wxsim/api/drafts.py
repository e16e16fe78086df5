"""Drafts (草稿箱): draft/add|get|update|batchget|delete|count.

Rules from the official pages Add_draft, Get_draft, Update_draft, Get_draft_list, Delete_draft and
Count_drafts; shapes cross-checked with WxJava's WxMpDraftService and its beans (WxMpDraftArticles,
WxMpDraftList). Article limits (Add_draft): at most 8 articles, title 32 characters, author 16, digest
128, content under 20,000 characters; a cover (thumb_media_id) must be a permanent image.
"""

from __future__ import annotations

from typing import Any

from wxsim import errors as e
from wxsim.api.routing import Request, api
from wxsim.content import Draft
from wxsim.errors import fail
from wxsim.model import Account

ARTICLES_MAX = 8
TITLE_MAX = 32
AUTHOR_MAX = 16
DIGEST_MAX = 128
CONTENT_MAX = 20000
PAGE_MAX = 20
ARTICLE_FIELDS = (
    "title",
    "author",
    "digest",
    "content",
    "content_source_url",
    "thumb_media_id",
    "show_cover_pic",
    "need_open_comment",
    "only_fans_can_comment",
)


def article_from(account: Account, raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise fail(e.EMPTY_NEWS)
    title, content = str(raw.get("title") or ""), str(raw.get("content") or "")
    if not title:
        raise fail(e.EMPTY_NEWS, "title")
    if not content:
        raise fail(e.EMPTY_CONTENT)
    if len(title) > TITLE_MAX:
        raise fail(e.TITLE_TOO_LONG, f"{TITLE_MAX} characters")
    if len(str(raw.get("author") or "")) > AUTHOR_MAX:
        raise fail(e.TITLE_TOO_LONG, f"author: {AUTHOR_MAX} characters")
    if len(str(raw.get("digest") or "")) > DIGEST_MAX:
        raise fail(e.DIGEST_TOO_LONG, f"{DIGEST_MAX} characters")
    if len(content) >= CONTENT_MAX:
        raise fail(e.CONTENT_TOO_LONG, f"under {CONTENT_MAX} characters")
    thumb = str(raw.get("thumb_media_id") or "")
    cover = account.content.materials.get(thumb)
    if cover is None or cover.kind not in ("image", "thumb"):
        raise fail(e.INVALID_MEDIA_ID, "thumb_media_id must be a permanent image")
    article = {name: raw.get(name, "") for name in ARTICLE_FIELDS}
    article["title"], article["content"], article["thumb_media_id"] = title, content, thumb
    # 如果本字段为没有填写，则默认抓取正文前54个字 (Add_draft)
    article["digest"] = str(raw.get("digest") or "") or content[:54]
    for flag, default in (("show_cover_pic", 1), ("need_open_comment", 0), ("only_fans_can_comment", 0)):
        article[flag] = int(raw.get(flag, default) or 0)
    article["thumb_url"] = cover.url
    return article


def _articles(account: Account, raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise fail(e.EMPTY_NEWS, "articles")
    if len(raw) > ARTICLES_MAX:
        raise fail(e.TOO_MANY_ARTICLES, f"at most {ARTICLES_MAX}")
    return [article_from(account, a) for a in raw]


def _with_urls(media_id: str, articles: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {**a, "url": f"https://mp.weixin.qq.com/s?__biz=wxsim&tempkey={media_id}&idx={i}"}
        for i, a in enumerate(articles, 1)
    ]


def paging(body: dict[str, Any]) -> tuple[int, int, bool]:
    try:
        offset, count = int(body.get("offset", 0)), int(body.get("count", 0))
    except (TypeError, ValueError):
        raise fail(e.PARSE_ERROR, "offset and count") from None
    if offset < 0 or not 1 <= count <= PAGE_MAX:
        raise fail(e.PARSE_ERROR, f"count is 1 to {PAGE_MAX}")
    return offset, count, bool(body.get("no_content"))


def strip_content(articles: list[dict[str, Any]], no_content: bool) -> list[dict[str, Any]]:
    return [{k: v for k, v in a.items() if k != "content"} for a in articles] if no_content else articles


def draft(account: Account, media_id: str) -> Draft:
    found = account.content.drafts.get(media_id)
    if found is None:
        raise fail(e.INVALID_MEDIA_ID)
    return found


@api("POST", "/cgi-bin/draft/add")
def draft_add(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    with request.world.lock:
        articles = _articles(account, body.get("articles"))
        media_id = account.content.new_id("draft_")
        account.content.drafts[media_id] = Draft(media_id, articles, int(request.world.clock.now()))
    return {"media_id": media_id}


@api("POST", "/cgi-bin/draft/get")
def draft_get(request: Request) -> dict[str, Any]:
    found = draft(request.need_account(), str(request.json().get("media_id", "")))
    return {"news_item": _with_urls(found.media_id, found.articles)}


@api("POST", "/cgi-bin/draft/update")
def draft_update(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    with request.world.lock:
        found = draft(account, str(body.get("media_id", "")))
        try:
            index = int(body.get("index", 0))
        except (TypeError, ValueError):
            raise fail(e.PARSE_ERROR, "index") from None
        if not 0 <= index < len(found.articles):
            raise fail(e.PARSE_ERROR, f"index is 0 to {len(found.articles) - 1}")  # code unconfirmed
        found.articles[index] = article_from(account, body.get("articles"))
        found.update_time = int(request.world.clock.now())
    return {"errcode": 0, "errmsg": "ok"}


@api("POST", "/cgi-bin/draft/delete")
def draft_delete(request: Request) -> dict[str, Any]:
    # Deleting the same draft again also answers 0 (WxJava's WxMpDraftService notes it).
    with request.world.lock:
        request.need_account().content.drafts.pop(str(request.json().get("media_id", "")), None)
    return {"errcode": 0, "errmsg": "ok"}


@api("POST", "/cgi-bin/draft/batchget")
def draft_batchget(request: Request) -> dict[str, Any]:
    offset, count, no_content = paging(request.json())
    with request.world.lock:
        drafts = sorted(request.need_account().content.drafts.values(), key=lambda d: -d.update_time)
    page = drafts[offset : offset + count]
    return {
        "total_count": len(drafts),
        "item_count": len(page),
        "item": [
            {
                "media_id": d.media_id,
                "content": {"news_item": strip_content(_with_urls(d.media_id, d.articles), no_content)},
                "update_time": d.update_time,
            }
            for d in page
        ],
    }


@api("GET", "/cgi-bin/draft/count")
def draft_count(request: Request) -> dict[str, Any]:
    return {"total_count": len(request.need_account().content.drafts)}
