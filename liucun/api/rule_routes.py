"""REST endpoints for reply rules and service hours: validation and orchestration; autoreply and
servicehours do the work (and refuse with the field named)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from liucun.api.scope import account_for, principal
from liucun.autoreply import actions
from liucun.autoreply.models import Rule
from liucun.autoreply.queries import hit_counts
from liucun.autoreply.trying import probe_for, try_message
from liucun.servicehours.actions import save_service_hours
from liucun.servicehours.models import ServiceHours
from liucun.staff.models import Role

router = Router(tags=["reply rules"])

RULE_EXAMPLE: dict[str, Any] = {
    "name": "积分查询",
    "trigger": "keyword",
    "match": "contains",
    "values": ["积分"],
    "replies": [{"type": "text", "text": "{remark}您好，积分请点菜单“会员中心”查看。"}],
}


class RuleIn(Schema):
    """A reply rule. `trigger`: follow, scan, keyword, click, message_type, out_of_hours, default.
    `match` (keyword rules): exact, contains, regex (RE2 syntax). `values`: keywords, QR scenes, menu
    keys or message types. `replies`: objects with `type` text (`text`, placeholders {remark},
    {channel} (the channel's name, else its QR scene), {attr:NAME}; missing values render empty),
    image/voice (`media_id`), video (`media_id`, `title`, `description`), news (`title`,
    `description`, `url`, `picurl`)."""

    model_config = {"json_schema_extra": {"examples": [RULE_EXAMPLE]}}

    name: str = Field(..., max_length=200)
    trigger: str
    match: str = ""
    values: list[str] = []
    conditions: dict[str, Any] = {}
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    priority: int = 0
    enabled: bool = True
    reply_mode: str = "random"
    replies: list[dict[str, Any]] = []
    handoff: bool = False


class RuleOut(Schema):
    id: int
    name: str
    trigger: str
    match: str
    values: list[str]
    conditions: dict[str, Any]
    valid_from: datetime | None
    valid_until: datetime | None
    priority: int
    enabled: bool
    reply_mode: str
    replies: list[dict[str, Any]]
    handoff: bool
    hits: int = 0
    updated_at: datetime


class TryIn(Schema):
    kind: Literal[
        "text", "image", "voice", "video", "shortvideo", "location", "link", "follow", "scan", "click"
    ]
    text: str = Field("", max_length=2000)
    scene: str = Field("", max_length=64)
    key: str = Field("", max_length=128)
    openid: str = Field("", max_length=64)


class TryOut(Schema):
    rule_id: int | None
    rule_name: str
    reply_xml: str
    handoff: bool
    follow_ups: list[dict[str, Any]]


class ImportIn(Schema):
    format: str
    version: int = 1
    rules: list[dict[str, Any]]


class ServiceHoursIO(Schema):
    """Weekly intervals [weekday (0 = Monday), "HH:MM", "HH:MM"] and closed dates, in China time."""

    enabled: bool
    weekly: list[list[Any]]
    holidays: list[str]


def _actor(request: HttpRequest) -> Any:
    who = principal(request)
    return who.user if who.token is None else who.label


def _rule(account: Any, rule_id: int) -> Rule:
    rule = Rule.objects.filter(account=account, pk=rule_id).first()
    if rule is None:
        raise HttpError(404, "no such rule")
    return rule


def _no_nul(*texts: str) -> None:
    if any("\x00" in t for t in texts):
        raise HttpError(400, "text may not contain NUL characters")


@router.get("/accounts/{appid}/rules", response=list[RuleOut], summary="Reply rules with their hits")
def list_rules(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.AGENT)
    hits = hit_counts(account)
    rules = list(Rule.objects.filter(account=account).order_by("trigger", "-priority", "id"))
    for rule in rules:
        rule.hits = hits.get(rule.pk, 0)  # type: ignore[attr-defined]
    return rules


@router.post("/accounts/{appid}/rules", response={201: RuleOut}, summary="Create a reply rule")
def create_rule(request: HttpRequest, appid: str, body: RuleIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return Status(201, actions.create_rule(_actor(request), account, body.dict()))


@router.get("/accounts/{appid}/rules/export", response=dict[str, Any], summary="Export all rules (JSON)")
def export_rules(request: HttpRequest, appid: str) -> Any:
    return actions.export_rules(account_for(request, appid, Role.OPERATOR))


@router.post(
    "/accounts/{appid}/rules/import",
    response=list[RuleOut],
    summary="Replace all rules with an export's (all or nothing)",
)
def import_rules(request: HttpRequest, appid: str, body: ImportIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    return actions.import_rules(_actor(request), account, body.dict())


@router.post("/accounts/{appid}/rules/try", response=TryOut, summary="Which rule answers a message")
def try_rules(request: HttpRequest, appid: str, body: TryIn) -> Any:
    account = account_for(request, appid, Role.AGENT)
    _no_nul(body.text, body.scene, body.key, body.openid)
    decision = try_message(
        account, probe_for(body.kind, text=body.text, scene=body.scene, key=body.key), body.openid
    )
    reply_xml = (
        decision.reply.render(to_user=body.openid or "FAN", from_user=account.original_id, create_time=0)
        if decision.reply is not None
        else ""
    )
    return {
        "rule_id": decision.rule_id,
        "rule_name": decision.rule_name,
        "reply_xml": reply_xml,
        "handoff": decision.handoff,
        "follow_ups": [dict(c) for c in decision.follow_ups],
    }


@router.get("/accounts/{appid}/rules/{rule_id}", response=RuleOut, summary="One reply rule")
def get_rule(request: HttpRequest, appid: str, rule_id: int) -> Any:
    account = account_for(request, appid, Role.AGENT)
    rule = _rule(account, rule_id)
    rule.hits = hit_counts(account).get(rule.pk, 0)  # type: ignore[attr-defined]
    return rule


@router.put("/accounts/{appid}/rules/{rule_id}", response=RuleOut, summary="Replace a reply rule")
def update_rule(request: HttpRequest, appid: str, rule_id: int, body: RuleIn) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    rule = _rule(account, rule_id)
    return actions.update_rule(_actor(request), account, rule.pk, body.dict())


@router.delete("/accounts/{appid}/rules/{rule_id}", response={204: None}, summary="Delete a reply rule")
def delete_rule(request: HttpRequest, appid: str, rule_id: int) -> Any:
    account = account_for(request, appid, Role.OPERATOR)
    rule = _rule(account, rule_id)
    actions.delete_rule(_actor(request), account, rule.pk)
    return Status(204, None)


@router.get("/accounts/{appid}/service-hours", response=ServiceHoursIO, summary="Service hours (China time)")
def get_service_hours(request: HttpRequest, appid: str) -> Any:
    account = account_for(request, appid, Role.AGENT)
    row = ServiceHours.objects.filter(account=account).first()
    if row is None:
        return {"enabled": False, "weekly": [], "holidays": []}
    return row


@router.put("/accounts/{appid}/service-hours", response=ServiceHoursIO, summary="Set service hours (admins)")
def put_service_hours(request: HttpRequest, appid: str, body: ServiceHoursIO) -> Any:
    account = account_for(request, appid, Role.ADMIN)
    return save_service_hours(
        _actor(request), account, enabled=body.enabled, weekly=body.weekly, holidays=body.holidays
    )
