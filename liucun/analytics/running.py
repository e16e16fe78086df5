"""Running a registered report for a request: parse the parameters the spec allows, build, and write CSV.

A run also looks up whether the read models the report reads (spec.reads_for its channel) were complete:
a rebuild from zero or a backlog of events leaves their rollups short, and the page and the JSON say so.
"""

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
from liucun.readmodels import freshness

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
    """The report, and which of its read models were incomplete (a page and the JSON say so)."""
    query, report = build(spec, account, params)
    # After the build: a rebuild that began while it read is then reported, rather than missed.
    report.incomplete = freshness.incomplete(spec.reads_for(query.channel))
    return query, report


def build(
    spec: ReportSpec, account: OfficialAccount, params: Mapping[str, str | None]
) -> tuple[ReportQuery, Report]:
    """The report alone, for a CSV: a table has no place to say its numbers are incomplete."""
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
        "freshness": freshness_json(report),
    }


def freshness_json(report: Report) -> dict[str, Any]:
    """Whether the numbers are whole, and the read models (registry names) that were not."""
    return {
        "complete": not report.incomplete,
        "read_models": [
            {"name": f.name, "rebuilding": f.rebuilding, "behind": f.behind} for f in report.incomplete
        ],
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
