"""CRM endpoints: CSV imports from company systems, fan lists as CSV, a fan's remark and attributes.

Validation and orchestration only; the work is in liucun.crm. Bodies are optional in the signatures so
the account check comes first: a caller without a role on the account gets 404 whatever they send.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from ninja import File, Form, Query, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError
from pydantic import RootModel

from liucun.api.routes import _actor
from liucun.api.schemas import CsvHeaders, FanQuery
from liucun.api.scope import account_for
from liucun.crm import actions, exports, imports
from liucun.crm.csvfile import MAX_UPLOAD_BYTES
from liucun.crm.models import ImportJob
from liucun.fans.models import Fan
from liucun.staff.models import Role

router = Router(tags=["crm"])


class LineErrorOut(Schema):
    line: int
    message: str


class ImportJobOut(Schema):
    id: int
    status: str
    phase: str
    dry_run: bool
    filename: str
    size: int
    encoding: str
    delimiter: str
    mapping: dict[str, Any]
    total_rows: int | None
    rows_done: int
    progress: float
    would_update: int
    unchanged: int
    skipped: int
    updated: int
    error_count: int
    line_errors: list[LineErrorOut]
    error: str
    can_commit: bool
    requested_by: str
    committed_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RemarkIn(Schema):
    remark: str


class AttributeChanges(RootModel[dict[str, str | None]]):
    """{"store": "静安店", "phone": null}: a value sets the attribute, null (or "") removes it."""


class FanCrmOut(Schema):
    openid: str
    remark: str
    attributes: dict[str, Any]


_IMPORT_HELP = (
    "Multipart: `file` (CSV in UTF-8, UTF-8 with BOM, GBK/GB18030 or UTF-16; comma, tab or semicolon; at "
    f"most {MAX_UPLOAD_BYTES // (1024 * 1024)} MB), `mapping` (JSON: "
    '`{"key_column": "openid", "key_type": "openid"|"unionid", "columns": {"手机": "phone", ...}, '
    '"clear_empty": false}`) and `dry_run` (default true: check only). 201 when finished within the '
    "request, 202 when a worker runs it (poll the job)."
)


@router.post(
    "/accounts/{appid}/imports",
    response={201: ImportJobOut, 202: ImportJobOut},
    summary="Upload a CSV of fan attributes: check it (dry run) or apply it",
    description=_IMPORT_HELP,
)
def create_import(
    request: HttpRequest,
    appid: str,
    file: File[UploadedFile | None] = None,
    mapping: Form[str] = "",
    dry_run: Form[bool] = True,
) -> Status[ImportJob]:
    account = account_for(request, appid, Role.OPERATOR)
    if file is None:
        raise HttpError(400, "upload the CSV as the multipart field `file`")
    if (file.size or 0) > MAX_UPLOAD_BYTES:
        raise HttpError(413, f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it")
    try:
        mapping_data = json.loads(mapping) if mapping else None
    except json.JSONDecodeError:
        raise HttpError(400, "mapping is not valid JSON") from None
    try:
        job = imports.start_import(_actor(request), account, file, mapping_data or {}, dry_run=dry_run)
    except ValidationError as exc:
        raise HttpError(400, _message(exc)) from None
    return Status(201 if job.is_over else 202, job)


@router.get("/accounts/{appid}/imports", response=list[ImportJobOut], summary="Recent imports")
def list_imports(request: HttpRequest, appid: str) -> list[ImportJob]:
    account = account_for(request, appid, Role.AGENT)
    return list(ImportJob.objects.filter(account=account).order_by("-id")[:50])


@router.get("/accounts/{appid}/imports/{job_id}", response=ImportJobOut, summary="An import's progress")
def import_status(request: HttpRequest, appid: str, job_id: int) -> ImportJob:
    account = account_for(request, appid, Role.AGENT)
    job = ImportJob.objects.filter(account=account, pk=job_id).first()
    if job is None:
        raise HttpError(404, "no such import")
    return job


@router.post(
    "/accounts/{appid}/imports/{job_id}/commit",
    response={200: ImportJobOut, 202: ImportJobOut},
    summary="Apply a checked import, all or nothing (or run a crashed one again)",
)
def commit_import(request: HttpRequest, appid: str, job_id: int) -> Status[ImportJob]:
    account = account_for(request, appid, Role.OPERATOR)
    try:
        job = imports.commit_import(_actor(request), account, job_id)
    except ImportJob.DoesNotExist:
        raise HttpError(404, "no such import") from None
    except ValidationError as exc:
        raise HttpError(409, _message(exc)) from None
    return Status(200 if job.is_over else 202, job)


@router.get(
    "/accounts/{appid}/fans.csv",
    summary="Fans as CSV (same filters as the fan list; audited)",
    openapi_extra={"responses": {200: {"description": "UTF-8 CSV with a BOM", "content": {"text/csv": {}}}}},
)
def fans_csv(
    request: HttpRequest, appid: str, q: Query[FanQuery], headers: CsvHeaders = "en"
) -> StreamingHttpResponse:
    account = account_for(request, appid, Role.OPERATOR)
    style = exports.CsvStyle.for_language("zh" if headers == "zh" else None, chinese_headers=headers == "zh")
    try:
        rows = exports.fan_csv_rows(_actor(request), account, q.fan_filter(), q.ordering, style)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="fans-{account.appid}-{stamp}.csv"'
    return response


@router.put(
    "/accounts/{appid}/fans/{openid}/remark",
    response=FanCrmOut,
    summary="Set a fan's remark (备注) in WeChat, then here",
)
def set_remark(request: HttpRequest, appid: str, openid: str, payload: RemarkIn | None = None) -> Fan:
    account = account_for(request, appid, Role.OPERATOR)
    if payload is None:
        raise HttpError(400, 'send {"remark": "..."}')
    return actions.set_remark(_actor(request), account, openid, payload.remark)


@router.patch(
    "/accounts/{appid}/fans/{openid}/attributes",
    response=FanCrmOut,
    summary="Set or remove a fan's custom attributes",
    description='A JSON object of changes: `{"store": "静安店", "phone": null}`; null (or "") removes.',
)
def patch_attributes(
    request: HttpRequest,
    appid: str,
    openid: str,
    changes: AttributeChanges | None = None,
) -> Fan:
    account = account_for(request, appid, Role.OPERATOR)
    if changes is None or not changes.root:
        raise HttpError(400, 'send a JSON object of changes, for example {"store": "静安店"}')
    return actions.set_attributes(_actor(request), account, openid, changes.root)


def _message(exc: ValidationError) -> str:
    return " ".join(exc.messages)
