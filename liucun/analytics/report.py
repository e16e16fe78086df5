"""What a report is: one registration gives its console page, its CSV and its API operation.

A report module (`<app>/reports.py`, found by AnalyticsConfig.ready) calls `register(ReportSpec(...))`.
`build(account, query)` reads only rollup tables or other bounded reads, never a scan of the event
store per view, and returns a Report: columns, rows, an optional ECharts option and findings (plain
sentences such as "渠道 抽奖 loses fans significantly faster"). The API returns the Report as JSON with
the same keys the CSV uses; the console draws the chart and the table. `reads` names the read models
(readmodels/registry.py) the build's rollups come from, so a report can tell its reader when they are
being rebuilt or far behind and its numbers are incomplete (readmodels/freshness.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.utils.functional import Promise

from liucun.accounts.models import OfficialAccount
from liucun.analytics.periods import ReportQuery
from liucun.readmodels.freshness import Freshness
from liucun.staff.models import Role

Text = str | Promise
KINDS = ("date", "text", "int", "float", "rate", "bool")


@dataclass(frozen=True)
class Column:
    key: str  # the JSON key and the CSV column id; stable for API clients
    label: Text  # what the console and a Chinese CSV show
    # date: YYYY-MM-DD; int; float; rate: a share 0..1 (the console shows a percentage); text; bool.
    kind: str = "int"
    help: Text = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key}: kind {self.kind!r} is not one of {KINDS}")


@dataclass
class Report:
    columns: list[Column]
    rows: list[dict[str, Any]]
    # An Apache ECharts option (JSON only: no functions), drawn by static/console/reports.js.
    chart: dict[str, Any] | None = None
    findings: list[str] = field(default_factory=list)  # sentences for the operator, in the active language
    notes: list[str] = field(default_factory=list)  # how the numbers are made, what they leave out
    # Anything else an API client may want (test statistics, medians); JSON-serialisable.
    meta: dict[str, Any] = field(default_factory=dict)
    # The read models of spec.reads whose rows were incomplete when it was built (set by running.run).
    incomplete: list[Freshness] = field(default_factory=list)


@dataclass(frozen=True)
class Param:
    """A report's own parameter besides the range, granularity and channel."""

    name: str
    label: Text
    default: str
    choices: tuple[tuple[str, Text], ...] = ()  # (value, label); empty: free text up to 64 characters

    @property
    def allowed(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.choices)


@dataclass(frozen=True)
class ReportSpec:
    name: str  # URL slug: a/<appid>/reports/<name>/, /api/accounts/{appid}/reports/<name>
    title: Text
    description: Text  # one paragraph: what it shows and how it is computed (the OpenAPI description too)
    build: Callable[[OfficialAccount, ReportQuery], Report]
    # The read models (registry names) whose tables `build` reads. No default: a new report says which,
    # or () when it reads none, so its page cannot pass off half-rebuilt rollups as whole numbers.
    reads: tuple[str, ...]
    # Read models `build` reads only when a channel is chosen: the all-channel view does not wait on them.
    reads_by_channel: tuple[str, ...] = ()
    columns_doc: tuple[Column, ...] = ()  # the columns every answer has (dynamic ones are described)
    params: tuple[Param, ...] = ()
    default_days: int = 30
    granularities: tuple[str, ...] = ("day", "week", "month")  # the first is the default
    by_channel: bool = True  # whether the channel filter applies
    minimum_role: Role = Role.OPERATOR
    order: int = 100  # place in the sidebar and the index

    def reads_for(self, channel: str | None) -> tuple[str, ...]:
        return self.reads + self.reads_by_channel if channel is not None else self.reads

    def option_rules(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        return {p.name: (p.default, p.allowed) for p in self.params}


_REGISTRY: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    existing = _REGISTRY.get(spec.name)
    if existing is not None and existing.build is not spec.build:
        raise ValueError(f"two reports are named {spec.name!r}")
    _REGISTRY[spec.name] = spec
    return spec


def specs() -> list[ReportSpec]:
    return sorted(_REGISTRY.values(), key=lambda s: (s.order, s.name))


def spec_named(name: str) -> ReportSpec | None:
    return _REGISTRY.get(name)


def json_value(value: Any) -> Any:
    """A cell as JSON: dates as YYYY-MM-DD, everything else as it is."""
    if isinstance(value, date):
        return value.isoformat()
    return value
