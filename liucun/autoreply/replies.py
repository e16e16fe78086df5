"""A rule's stored reply content as the passive reply the callback renders."""

from __future__ import annotations

from collections.abc import Mapping

from liucun.wechat.replies import Article, ImageReply, NewsReply, Reply, TextReply, VideoReply, VoiceReply


def to_reply(content: Mapping[str, str]) -> Reply:
    kind = content["type"]
    if kind == "text":
        return TextReply(content["text"])
    if kind == "image":
        return ImageReply(content["media_id"])
    if kind == "voice":
        return VoiceReply(content["media_id"])
    if kind == "video":
        return VideoReply(
            content["media_id"], content.get("title") or None, content.get("description") or None
        )
    article = Article(
        content["title"], content.get("description", ""), content.get("picurl", ""), content["url"]
    )
    return NewsReply((article,))
