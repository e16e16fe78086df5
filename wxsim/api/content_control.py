"""Control API for content and statistics: reading parameters and the ground truth behind the datacube.

Reserved prefix /wxsim/, like wxsim/api/control.py.
"""

from __future__ import annotations

from typing import Any

from wxsim.api.drafts import article_from
from wxsim.api.routing import Request, Response, api, json_response
from wxsim.content import Draft, Media
from wxsim.errors import WeChatError
from wxsim.reading import reads_so_far, set_reading_model

_COVER = b"\xff\xd8\xff\xe0" + bytes(64)  # the first bytes of a JPEG: enough for a cover


@api("GET", "/wxsim/reading", token=False, faults=False)
def get_reading(request: Request) -> dict[str, Any]:
    return request.world.account(request.query.get("appid", "")).reading.as_dict()


@api("POST", "/wxsim/reading", token=False, faults=False)
def post_reading(request: Request) -> Any:
    body = dict(request.json())
    appid = str(body.pop("appid", ""))
    try:
        return set_reading_model(request.world, appid, body)
    except (TypeError, ValueError) as exc:
        return json_response({"error": str(exc)}, 400)


@api("GET", "/wxsim/reads", token=False, faults=False)
def reads(request: Request) -> Response:
    """Every read and share that has happened by now (later ones are drawn but still to come)."""
    account = request.world.account(request.query.get("appid", ""))
    with request.world.lock:
        events = reads_so_far(account, request.world.clock.now())
        publications = [
            {
                "msg_data_id": p.msg_data_id,
                "sent_at": p.sent_at,
                "notified": p.notified,
                "target_user": p.target_user,
                "articles": [a["title"] for a in p.articles],
                "deleted_idx": sorted(p.deleted_idx),
            }
            for p in account.content.publications.values()
        ]
    return json_response({"reads": [e.as_dict() for e in events], "publications": publications})


@api("GET", "/wxsim/traffic", token=False, faults=False)
def traffic(request: Request) -> dict[str, Any]:
    """What fans sent and how each callback went: the truth behind getupstreammsg*/getinterfacesummary*."""
    return request.world.account(request.query.get("appid", "")).traffic.as_dict()


@api("POST", "/wxsim/drafts", token=False, faults=False)
def seed_draft(request: Request) -> Any:
    """A draft as an operator would write it in the console: `{appid, articles: [{title, content?}]}`.

    For tests that need an mpnews media_id without uploading a cover; the articles pass the draft/add
    checks (a cover image is made for them).
    """
    body = request.json()
    account = request.world.account(str(body.get("appid", "")))
    raw = body.get("articles")
    if not isinstance(raw, list) or not raw or not all(isinstance(a, dict) for a in raw):
        return json_response({"error": "articles is a non-empty list of {title, content?}"}, 400)
    now = int(request.world.clock.now())
    with request.world.lock:
        cover_id = account.content.new_id("mat_")
        account.content.materials[cover_id] = Media(
            cover_id, "image", _COVER, "cover.jpg", "image/jpeg", now, True
        )
        try:
            articles = [
                article_from(account, {"content": "<p>wxsim</p>", **a, "thumb_media_id": cover_id})
                for a in raw
            ]
        except WeChatError as error:
            account.content.materials.pop(cover_id)
            return json_response({"error": error.errmsg}, 400)
        media_id = account.content.new_id("draft_")
        account.content.drafts[media_id] = Draft(media_id, articles, now)
    return json_response({"media_id": media_id}, 201)
