"""Running a registered report for a request: parse the parameters the spec allows, build, and write CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery, ReportRefused, parse_query
from liucun.analytics.report import Report, ReportSpec, json_value
from liucun.crm.rules import escape_cell

BOM = "\ufeff"  # Excel opens UTF-8 CSV as Chinese text only with it


def query_for(spec: ReportSpec, params: Mapping[str, str | None]) -> ReportQuery:
    """The spec's query from request parameters; ReportRefused (nothing computed) for bad input."""
    granularity = (params.get("granularity") or "").strip() or spec.granularities[0]
    if granularity not in spec.granularities:
        raise ReportRefused(
            _("This report is by %(allowed)s, not “%(value)s”."),
            {"allowed": ", ".join(spec.granularities), "value": granularity[:40]},
            code="report.bad_granularity",
        )
    merged = {**params, "granularity": granularity}
    if not spec.by_channel:
        merged["channel"] = None
    return parse_query(merged, default_days=spec.default_days, options=spec.option_rules())


def run(
    spec: ReportSpec, account: OfficialAccount, params: Mapping[str, str | None]
) -> tuple[ReportQuery, Report]:
    query = query_for(spec, params)
    return query, spec.build(account, query)


def as_json(spec: ReportSpec, query: ReportQuery, report: Report) -> dict[str, Any]:
    return {
        "report": spec.name,
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "granularity": query.granularity,
        "channel": query.channel,
        "options": dict(query.options),
        "columns": [
            {"key": c.key, "label": str(c.label), "kind": c.kind, "help": str(c.help)} for c in report.columns
        ],
        "rows": [{c.key: json_value(row.get(c.key)) for c in report.columns} for row in report.rows],
        "findings": [str(f) for f in report.findings],
        "notes": [str(n) for n in report.notes],
        "meta": report.meta,
    }


def csv_chunks(report: Report, *, labels: bool) -> Iterator[str]:
    """The report's table as CSV text (BOM first): column labels (the reader's language) or keys."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([str(c.label) if labels else c.key for c in report.columns])
    yield BOM + _flush(buffer)
    for row in report.rows:
        writer.writerow([_cell(row.get(c.key)) for c in report.columns])
        if buffer.tell() > 64 * 1024:
            yield _flush(buffer)
    yield _flush(buffer)


def _flush(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return f"{value:.6g}"
    value = json_value(value)
    return escape_cell(str(value))
