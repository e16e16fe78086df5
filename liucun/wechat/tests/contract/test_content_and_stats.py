"""media (temporary, permanent, article images), publishing (drafts, publish jobs), and datacube."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from liucun.wechat.api import datacube, media, publishing
from liucun.wechat.api.limits import LimitError
from liucun.wechat.api.media import MediaKind
from liucun.wechat.client import UploadFile
from liucun.wechat.tests.contract.conftest import Sim, assert_said, refusal
from wxsim.api.menus_qr import qr_png

pytestmark = pytest.mark.django_db

PNG = UploadFile("cover.png", qr_png("cover"), "image/png")
JPEG = UploadFile("thumb.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 200 + b"\xff\xd9", "image/jpeg")


def test_media_and_materials(sim: Sim) -> None:
    now = int(sim.control.clock()["now"])
    temporary = media.upload(sim.client, MediaKind.IMAGE, PNG)
    assert temporary == media.TemporaryMedia("image", temporary.media_id, temporary.created_at)
    assert abs(temporary.created_at - now) <= 2
    assert media.download(sim.client, temporary.media_id).content == PNG.content
    assert media.upload_article_image(sim.client, PNG).startswith("http")
    image = media.add_material(sim.client, MediaKind.IMAGE, PNG)
    assert image.media_id and image.url
    thumb = media.add_material(sim.client, MediaKind.THUMB, JPEG)
    assert media.material(sim.client, thumb.media_id).content == JPEG.content
    page = media.materials(sim.client, MediaKind.IMAGE)
    assert [(i.media_id, i.url) for i in page.items] == [(image.media_id, image.url)] and page.total == 1
    assert media.material_count(sim.client) == media.MaterialCount(voice=0, video=0, image=1, news=0)
    media.delete_material(sim.client, image.media_id)
    assert media.materials(sim.client, MediaKind.IMAGE) == media.MaterialPage(0, [])


def test_media_refused(sim: Sim) -> None:
    not_an_image = refusal(
        lambda: media.upload(sim.client, MediaKind.IMAGE, UploadFile("a.png", b"plain text", "image/png"))
    )
    assert not_an_image.errcode == 40005
    assert_said(
        not_an_image,
        "WeChat refused: WeChat does not accept this file format (errcode 40005).",
        "微信拒绝：微信不接受这种文件格式 (errcode 40005)。",
    )
    big_thumb = UploadFile("t.jpg", b"\xff\xd8\xff" + b"\x00" * 64 * 1024, "image/jpeg")
    too_big = refusal(lambda: media.add_material(sim.client, MediaKind.THUMB, big_thumb))
    assert isinstance(too_big, LimitError) and too_big.errcode == 40006
    unknown = refusal(lambda: media.delete_material(sim.client, "no-such-material"))
    assert unknown.errcode == 40007


def test_drafts_and_publishing(sim: Sim) -> None:
    thumb = media.add_material(sim.client, MediaKind.IMAGE, PNG)
    article = publishing.Article("周末活动", "<p>全场八折</p>", thumb.media_id, author="小美", digest="八折")
    media_id = publishing.add_draft(sim.client, [article])
    (stored,) = publishing.draft(sim.client, media_id)
    assert stored == publishing.Article(
        "周末活动", "<p>全场八折</p>", thumb.media_id, "小美", "八折", url=stored.url, thumb_url=thumb.url
    )
    publishing.update_draft(
        sim.client, media_id, 0, publishing.Article("周末活动（更新）", "<p>七折</p>", thumb.media_id)
    )
    assert [a.title for a in publishing.draft(sim.client, media_id)] == ["周末活动（更新）"]
    assert publishing.draft_count(sim.client) == 1
    assert [d.id for d in publishing.drafts(sim.client).items] == [media_id]

    submitted = publishing.submit(sim.client, media_id)
    job = publishing.publish_job(sim.client, submitted.publish_id)
    assert job == publishing.PublishJob(
        submitted.publish_id, publishing.PublishStatus.PUBLISHED, job.article_id, job.article_urls, []
    )
    assert job.article_id and len(job.article_urls) == 1
    listing = publishing.published(sim.client)
    assert [i.id for i in listing.items] == [job.article_id] and listing.total == 1
    assert [a.title for a in publishing.published_article(sim.client, job.article_id)] == ["周末活动（更新）"]
    publishing.delete_published(sim.client, job.article_id)
    assert publishing.published(sim.client) == publishing.Listing(0, [])
    publishing.delete_draft(sim.client, media_id)
    assert publishing.draft_count(sim.client) == 0


def test_publishing_refused(sim: Sim) -> None:
    unknown = refusal(lambda: publishing.submit(sim.client, "no-such-draft"))
    assert unknown.errcode == 40007
    assert_said(
        unknown,
        "WeChat refused: WeChat does not know this media or message id (errcode 40007).",
        "微信拒绝：微信不认识这个素材或消息 ID (errcode 40007)。",
    )
    no_cover = refusal(
        lambda: publishing.add_draft(sim.client, [publishing.Article("标题", "正文", "no-such-thumb")])
    )
    assert no_cover.errcode == 40007
    long_title = publishing.Article("长" * 33, "正文", "x")
    assert isinstance(refusal(lambda: publishing.add_draft(sim.client, [long_title])), LimitError)
    assert isinstance(refusal(lambda: publishing.add_draft(sim.client, [])), LimitError)


def _china_today(sim: Sim) -> datetime:
    return datetime.fromtimestamp(sim.control.clock()["now"], UTC) + timedelta(hours=8)


def test_follower_statistics(sim: Sim) -> None:
    now = sim.control.clock()["now"]
    newcomer = sim.control.act(sim.account.appid, "follow", None, scene="store_001", at=now - 86400)["openid"]
    sim.control.act(sim.account.appid, "unfollow", newcomer, at=now - 86000)
    yesterday = (_china_today(sim) - timedelta(days=1)).date()
    source = next(t["user_source"] for t in sim.control.truth(sim.account.appid) if t["openid"] == newcomer)
    assert datacube.user_summary(sim.client, yesterday, yesterday) == [
        datacube.UserSummary(yesterday, source, new_user=1, cancel_user=1)
    ]
    assert datacube.user_cumulate(sim.client, yesterday, yesterday) == [datacube.UserCumulate(yesterday, 0)]


def test_statistics_refused(sim: Sim) -> None:
    today = _china_today(sim).date()
    not_yet = refusal(lambda: datacube.user_summary(sim.client, today, today))
    assert not_yet.errcode == 61501
    assert_said(
        not_yet,
        "WeChat refused: the date range is not one WeChat reports on (errcode 61501).",
        "微信拒绝：微信不提供这个日期范围的数据 (errcode 61501)。",
    )
    week = refusal(
        lambda: datacube.user_cumulate(sim.client, today - timedelta(days=8), today - timedelta(days=1))
    )
    assert isinstance(week, LimitError) and week.errcode == 61501


def test_article_and_message_statistics(sim: Sim) -> None:
    yesterday = (_china_today(sim) - timedelta(days=1)).date()
    assert datacube.upstream_messages(sim.client, yesterday, yesterday) == []
    assert all(r["ref_date"] == yesterday for r in datacube.article_reads(sim.client, yesterday, yesterday))
    assert all(
        isinstance(r.callback_count, int)
        for r in datacube.interface_summary(sim.client, yesterday, yesterday)
    )
