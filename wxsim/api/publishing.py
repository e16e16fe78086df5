"""Free publishing (发布能力): freepublish/submit|get|batchget|getarticle|delete with the
PUBLISHJOBFINISH callback, and the publication behind an mpnews mass send.

Rules from the official pages Publish, Get_status, Get_publication_records, Get_article_from_id and
Delete_posts; shapes cross-checked with WxJava's WxMpFreePublishService and its beans
(WxMpFreePublishStatus, WxMpFreePublishList). A publish succeeds at once (publish_status 0) and the
PUBLISHJOBFINISH event reaches the message server afterwards: simplified, WeChat takes a while and may
fail a publish in review (status 2-4), which wxsim never does.
"""

from __future__ import annotations

import threading
from typing import Any

from wxsim import errors as e
from wxsim.api.drafts import draft, paging, strip_content
from wxsim.api.routing import Request, api
from wxsim.content import Publication
from wxsim.delivery import deliver
from wxsim.errors import fail
from wxsim.model import Account, Fan
from wxsim.protocol.xmlbuild import callback_xml
from wxsim.reading import cancel_reads, schedule_reads
from wxsim.world import World

STATUS_SUCCESS, STATUS_DELETED = 0, 5


def _recipients(account: Account) -> list[Fan]:
    return [f for o in account.fan_order if (f := account.fans[o]).following and not f.blacklisted]


def push_publication(
    world: World, account: Account, media_id: str, recipients: list[Fan], *, msg_data_id: int, now: float
) -> Publication:
    """A mass send of a draft (notified): recorded as content, and its reading drawn. Holds world.lock."""
    found = draft(account, media_id)
    publication = Publication(msg_data_id, [dict(a) for a in found.articles], int(now), True, len(recipients))
    account.content.publications[msg_data_id] = publication
    schedule_reads(world, account, publication, recipients)
    return publication


def delete_pushed(account: Account, msg_data_id: int, idx: int, now: float) -> None:
    publication = account.content.publications.get(msg_data_id)
    if publication is not None:
        publication.deleted_idx.update([idx] if idx else range(1, len(publication.articles) + 1))
        cancel_reads(account, msg_data_id, now, idx)


@api("POST", "/cgi-bin/freepublish/submit")
def publish_submit(request: Request) -> dict[str, Any]:
    world, account = request.world, request.need_account()
    now = int(world.clock.now())
    with world.lock:
        found = draft(account, str(request.json().get("media_id", "")))
        content = account.content
        msg_data_id = content.next_msg_data_id
        content.next_msg_data_id += 1
        publish_id = 100000000 + msg_data_id % 100000000
        publication = Publication(
            msg_data_id,
            [dict(a) for a in found.articles],
            now,
            False,
            0,
            publish_id=publish_id,
            article_id=f"wxsim_article_{msg_data_id}",
        )
        content.publications[msg_data_id] = publication
        content.publish_jobs[publish_id] = msg_data_id
        content.articles[publication.article_id] = msg_data_id
        schedule_reads(world, account, publication, _recipients(account))
    _report_publish(world, account, publication)
    return {"errcode": 0, "errmsg": "ok", "publish_id": str(publish_id), "msg_data_id": msg_data_id}


def _detail(account: Account, publication: Publication) -> dict[str, Any]:
    return {
        "count": len(publication.articles),
        "item": [
            {"idx": i, "article_url": publication.article_url(account.appid, i)}
            for i in range(1, len(publication.articles) + 1)
        ],
    }


def _report_publish(world: World, account: Account, publication: Publication) -> None:
    """PUBLISHJOBFINISH, from "mphelper", after the call has answered (as WeChat does)."""
    items = "".join(
        f"<item><idx>{i}</idx><article_url><![CDATA[{publication.article_url(account.appid, i)}]]>"
        "</article_url></item>"
        for i in range(1, len(publication.articles) + 1)
    )
    info = (
        f"<PublishEventInfo><publish_id>{publication.publish_id}</publish_id>"
        f"<publish_status>{publication.status}</publish_status>"
        f"<article_id><![CDATA[{publication.article_id}]]></article_id>"
        f"<article_detail><count>{len(publication.articles)}</count>{items}</article_detail>"
        "</PublishEventInfo>"
    )

    def run() -> None:
        when = int(world.clock.now())
        head = callback_xml(
            to_user=account.original_id,
            from_user="mphelper",
            create_time=when,
            msg_type="event",
            Event="PUBLISHJOBFINISH",
        )
        deliver(account, head.replace("</xml>", info + "</xml>"), "mphelper", when)

    threading.Thread(target=run, daemon=True).start()


def _publication(account: Account, article_id: str) -> Publication:
    msg_data_id = account.content.articles.get(article_id)
    if msg_data_id is None:
        raise fail(e.INVALID_ARTICLE_ID)
    return account.content.publications[msg_data_id]


@api("POST", "/cgi-bin/freepublish/get")
def publish_get(request: Request) -> dict[str, Any]:
    account = request.need_account()
    try:
        publish_id = int(str(request.json().get("publish_id", "")))
    except ValueError:
        raise fail(e.INVALID_MEDIA_ID, "publish_id") from None  # code unconfirmed
    msg_data_id = account.content.publish_jobs.get(publish_id)
    if msg_data_id is None:
        raise fail(e.INVALID_MEDIA_ID, "publish_id")  # code unconfirmed
    publication = account.content.publications[msg_data_id]
    return {
        "publish_id": str(publish_id),
        "publish_status": publication.status,
        "article_id": publication.article_id,
        "article_detail": _detail(account, publication),
        "fail_idx": [],
    }


def _published_articles(account: Account, publication: Publication, no_content: bool) -> list[dict[str, Any]]:
    articles = [
        {**a, "url": publication.article_url(account.appid, i), "is_deleted": i in publication.deleted_idx}
        for i, a in enumerate(publication.articles, 1)
    ]
    return strip_content(articles, no_content)


@api("POST", "/cgi-bin/freepublish/getarticle")
def publish_getarticle(request: Request) -> dict[str, Any]:
    account = request.need_account()
    publication = _publication(account, str(request.json().get("article_id", "")))
    return {"news_item": _published_articles(account, publication, False)}


@api("POST", "/cgi-bin/freepublish/batchget")
def publish_batchget(request: Request) -> dict[str, Any]:
    account = request.need_account()
    offset, count, no_content = paging(request.json())
    with request.world.lock:
        published = [
            p
            for p in sorted(account.content.publications.values(), key=lambda p: (-p.sent_at, -p.msg_data_id))
            if p.article_id and p.status == STATUS_SUCCESS
        ]
    page = published[offset : offset + count]
    return {
        "total_count": len(published),
        "item_count": len(page),
        "item": [
            {
                "article_id": p.article_id,
                "content": {"news_item": _published_articles(account, p, no_content)},
                "update_time": p.sent_at,
            }
            for p in page
        ],
    }


@api("POST", "/cgi-bin/freepublish/delete")
def publish_delete(request: Request) -> dict[str, Any]:
    account = request.need_account()
    body = request.json()
    with request.world.lock:
        publication = _publication(account, str(body.get("article_id", "")))
        try:
            index = int(body.get("index", 0) or 0)
        except (TypeError, ValueError):
            raise fail(e.PARSE_ERROR, "index") from None
        if not 0 <= index <= len(publication.articles):
            raise fail(e.PARSE_ERROR, f"index is 0 to {len(publication.articles)}")  # code unconfirmed
        # index 0 (or none) deletes every article of the publication (Delete_posts).
        delete_pushed(account, publication.msg_data_id, index, request.world.clock.now())
        if len(publication.deleted_idx) == len(publication.articles):
            publication.status = STATUS_DELETED
    return {"errcode": 0, "errmsg": "ok"}
