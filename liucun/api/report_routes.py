"""Analytics reports as JSON: one documented operation per registered report (liucun.analytics)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import translation
from ninja import Query, Router, Schema
from pydantic import Field, create_model

from liucun.analytics import running
from liucun.analytics.periods import NO_CHANNEL
from liucun.analytics.report import ReportSpec, specs
from liucun.api.scope import account_for

router = Router(tags=["analytics"])


class ColumnOut(Schema):
    key: str
    label: str
    kind: str = Field(description="date (YYYY-MM-DD), text, int, float, rate (a share 0..1) or bool")
    help: str


class ReadModelOut(Schema):
    name: str = Field(description="the read model's name, as `liucun readmodels status` lists it")
    rebuilding: bool = Field(description="its rollups are being refilled from zero, or wait for it")
    behind: int = Field(description="event ids it has not read yet (0 while rebuilding)")


class FreshnessOut(Schema):
    complete: bool = Field(description="false: some numbers are missing until the read models below catch up")
    read_models: list[ReadModelOut] = Field(
        description="the report's read models that are being rebuilt or far behind; empty when complete"
    )


class ReportOut(Schema):
    report: str
    start: str
    end: str
    granularity: str
    channel: str | None = Field(description='null: every channel; "": fans who came without a QR scene')
    options: dict[str, str]
    columns: list[ColumnOut]
    rows: list[dict[str, Any]] = Field(description="one object per row, keyed by the columns' keys")
    findings: list[str]
    notes: list[str]
    meta: dict[str, Any]
    freshness: FreshnessOut


def _query_schema(spec: ReportSpec) -> type[Schema]:
    fields: dict[str, Any] = {
        "start": (date | None, Field(None, description="first China day; default: the report's usual span")),
        "end": (date | None, Field(None, description="last China day (inclusive); default: today")),
    }
    if len(spec.granularities) > 1:
        fields["granularity"] = (
            Literal[spec.granularities] | None,
            Field(None, description=f"default: {spec.granularities[0]}"),
        )
    if spec.by_channel:
        fields["channel"] = (
            str | None,
            Field(None, max_length=64, description=f"one QR scene; {NO_CHANNEL!r} for fans without one"),
        )
    for param in spec.params:
        kind: Any = Literal[param.allowed] if param.allowed else str
        fields[param.name] = (
            kind | None,
            Field(None, description=f"{param.label} (default {param.default})"),
        )
    name = "".join(part.capitalize() for part in spec.name.split("-")) + "ReportQuery"
    return create_model(name, __base__=Schema, **fields)


def _add(spec: ReportSpec) -> None:
    schema = _query_schema(spec)
    columns = "; ".join(f"`{c.key}`: {c.label}" for c in spec.columns_doc)

    def report(request: HttpRequest, appid: str, query: Any) -> Any:
        account = account_for(request, appid, spec.minimum_role)
        params = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in query.dict().items()}
        # Labels, findings and notes in English unless the caller asks for a language, as every API answer.
        language = translation.get_language() if request.headers.get("Accept-Language") else "en"
        with translation.override(language):
            ran, built = running.run(spec, account, params)
            return running.as_json(spec, ran, built)

    # The query's schema is made per report at run time: given as an object, not a string annotation.
    report.__annotations__ = {"request": HttpRequest, "appid": str, "query": Query[schema], "return": Any}  # type: ignore[misc, valid-type]
    report.__name__ = f"report_{spec.name.replace('-', '_')}"
    router.get(
        f"/accounts/{{appid}}/reports/{spec.name}",
        response=ReportOut,
        summary=str(spec.title),
        description=f"{spec.description}" + (f"\n\nColumns: {columns}." if columns else ""),
        operation_id=report.__name__,
    )(report)


# The schema is read by machines: its titles and descriptions in English.
with translation.override("en"):
    for _spec in specs():
        _add(_spec)
