"""Checking an import line by line, and working out what it would change (reads only, no writes).

The same check runs for a dry run, before a commit (with progress), and once more inside the commit's
transaction with the fans locked, so what is written is what the file says against the fans as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from liucun.accounts.models import OfficialAccount, PrivacyOnUnfollow
from liucun.crm import rules
from liucun.crm.csvfile import CsvText, FileProblem
from liucun.fans.models import Fan

KEY_TYPES = ("openid", "unionid")
# openid, unionid, is_following, attributes, personal_data_erased_at
FanRow = tuple[str, str, bool, dict[str, str], datetime | None]
CHUNK = 5000  # rows looked up and fans read per query (PostgreSQL may scan the account per query)
MAX_LINE_ERRORS = 100  # kept on the job; error_count still counts them all


@dataclass(frozen=True)
class Mapping:
    key_column: str
    key_type: str
    columns: dict[str, str]  # CSV column -> attribute
    clear_empty: bool = False  # an empty cell removes the attribute (default: leaves it as it is)

    @classmethod
    def parse(cls, raw: Any) -> Mapping:
        """From the JSON the console or API sends; RuleError says what is wrong."""
        if not isinstance(raw, dict):
            raise rules.RuleError('the mapping is a JSON object: {"key_column", "key_type", "columns"}')
        key_column, key_type = raw.get("key_column"), raw.get("key_type", "openid")
        columns, clear_empty = raw.get("columns"), raw.get("clear_empty", False)
        if not isinstance(key_column, str) or not key_column.strip():
            raise rules.RuleError("key_column names the column holding the openid or unionid")
        if key_type not in KEY_TYPES:
            raise rules.RuleError("key_type is openid or unionid")
        if not isinstance(columns, dict) or not columns:
            raise rules.RuleError("columns maps at least one CSV column to an attribute")
        if not isinstance(clear_empty, bool):
            raise rules.RuleError("clear_empty is true or false")
        cleaned: dict[str, str] = {}
        for column, attribute in columns.items():
            if not isinstance(attribute, str):
                raise rules.RuleError(f"column {column}: the attribute name is text")
            rules.check_key(attribute.strip())
            cleaned[column.strip()] = attribute.strip()
        if len(set(cleaned.values())) < len(cleaned):
            raise rules.RuleError("two columns map to the same attribute")
        if key_column.strip() in cleaned:
            raise rules.RuleError(f"column {key_column.strip()} is the key; it cannot also be an attribute")
        if len(cleaned) > rules.MAX_ATTRIBUTES:
            raise rules.RuleError(f"at most {rules.MAX_ATTRIBUTES} columns can become attributes")
        return cls(key_column.strip(), key_type, cleaned, clear_empty)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key_column": self.key_column,
            "key_type": self.key_type,
            "columns": self.columns,
            "clear_empty": self.clear_empty,
        }

    def positions(self, header: Sequence[str]) -> tuple[int, list[tuple[int, str, str]]]:
        """Where the key and each mapped column are: (key index, [(index, column, attribute)])."""
        wanted = [self.key_column, *self.columns]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise FileProblem(
                f"the file has no column {', '.join(missing)} (its columns: {', '.join(header)})"
            )
        doubled = [c for c in wanted if header.count(c) > 1]
        if doubled:
            raise FileProblem(f"the file has more than one column named {', '.join(doubled)}")
        mapped = [(header.index(column), column, attribute) for column, attribute in self.columns.items()]
        return header.index(self.key_column), mapped


@dataclass
class Row:
    line: int
    key: str
    changes: dict[str, str | None]


@dataclass
class Plan:
    rows: int = 0
    would_update: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    updates: dict[int, dict[str, str]] = field(default_factory=dict)  # fan id -> attributes after

    def fail(self, line: int, message: str) -> None:
        self.errors.append((line, message))

    @property
    def error_count(self) -> int:
        """Lines with at least one error."""
        return len({line for line, _ in self.errors})

    @property
    def line_errors(self) -> list[dict[str, Any]]:
        """The first MAX_LINE_ERRORS errors by line number, as stored on the job."""
        first = sorted(self.errors, key=lambda error: error[0])[:MAX_LINE_ERRORS]
        return [{"line": line, "message": message} for line, message in first]


@dataclass
class Parsed:
    """The file's rows as changes, and the lines refused for their format alone (read once per run)."""

    total: int = 0
    rows: list[Row] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)


def parse(table: CsvText, mapping: Mapping) -> Parsed:
    key_at, mapped = mapping.positions(table.header)
    parsed = Parsed()
    first_line: dict[str, int] = {}
    for line, cells in table.rows():
        parsed.total += 1
        key = rules.unescape_cell(cells[key_at].strip()) if key_at < len(cells) else ""
        errors = len(parsed.errors)
        if not key:
            parsed.errors.append((line, f"{mapping.key_column} is empty"))
        elif key in first_line:
            parsed.errors.append((line, f"{_named(mapping, key)} is already on line {first_line[key]}"))
        else:
            first_line[key] = line
        changes: dict[str, str | None] = {}
        for at, column, attribute in mapped:
            raw = rules.unescape_cell(cells[at]) if at < len(cells) else ""
            try:
                value = rules.clean_value(attribute, raw)
            except rules.RuleError as exc:
                parsed.errors.append((line, f"{column}: {exc}"))
                continue
            if value or mapping.clear_empty:
                changes[attribute] = value or None
        if len(parsed.errors) == errors:
            parsed.rows.append(Row(line, key, changes))
    return parsed


def check(
    account: OfficialAccount,
    parsed: Parsed,
    mapping: Mapping,
    *,
    lock: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    uploaded_at: datetime | None = None,
) -> Plan:
    """Every line checked against the fans of `account`; `lock` holds the fans read (inside a commit).

    A fan whose personal data was erased after `uploaded_at` is skipped: the file's values for them were
    exported before the erasure, and applying a check made earlier would write them back."""
    plan = Plan(rows=parsed.total)
    for line, message in parsed.errors:
        plan.fail(line, message)
    rows = parsed.rows
    refused_early = parsed.total - len(rows)  # lines with a format error: nothing to look up
    index = None
    if mapping.key_type == "unionid" and len(rows) > CHUNK:
        index = _unionid_index(account, {row.key for row in rows})
    erase_on_unfollow = account.privacy_on_unfollow == PrivacyOnUnfollow.ERASE
    done = 0
    for chunk in _chunks(rows, CHUNK):
        keys = [row.key for row in chunk]
        if index is not None:
            found = {k: index.get(k, []) for k in keys}
            fans = _load(Fan.objects.filter(pk__in=sorted({i for ids in found.values() for i in ids})), lock)
        else:
            fans = _load(Fan.objects.filter(account=account, **{f"{mapping.key_type}__in": keys}), lock)
            found = {}
            for fan_id, fan in fans.items():
                found.setdefault(_key_of(mapping, fan), []).append(fan_id)
        for row in chunk:
            ids = [i for i in found.get(row.key, []) if i in fans]  # a fan deleted since is not found
            if not ids:
                plan.fail(row.line, f"no fan of this account has {_named(mapping, row.key)}")
            elif len(ids) > 1:
                openids = ", ".join(sorted(fans[i][0] for i in ids))
                plan.fail(row.line, f"this unionid belongs to {len(ids)} fans ({openids})")
            elif _key_of(mapping, fans[ids[0]]) != row.key:
                # Between finding the fan and locking it, its unionid was erased or replaced.
                plan.fail(row.line, "the fan changed while the file was checked; run the import again")
            else:
                _evaluate(
                    plan,
                    row,
                    ids[0],
                    fans[ids[0]],
                    erase_on_unfollow=erase_on_unfollow,
                    uploaded_at=uploaded_at,
                )
        done += len(chunk)
        if on_progress is not None:
            on_progress(refused_early + done, parsed.total)
    return plan


def _evaluate(
    plan: Plan, row: Row, fan_id: int, fan: FanRow, *, erase_on_unfollow: bool, uploaded_at: datetime | None
) -> None:
    _, _, following, current, erased_at = fan
    if erase_on_unfollow and not following:
        # Stored now, this would outlive the erasure the account promises for fans who left.
        plan.skipped += 1
        return
    if uploaded_at is not None and erased_at is not None and erased_at >= uploaded_at:
        plan.skipped += 1
        return
    try:
        after = rules.apply_changes(current, row.changes)
    except rules.RuleError as exc:
        plan.fail(row.line, str(exc))
        return
    if after == current:
        plan.unchanged += 1
    else:
        plan.would_update += 1
        plan.updates[fan_id] = after


def _key_of(mapping: Mapping, fan: FanRow) -> str:
    return fan[0] if mapping.key_type == "openid" else fan[1]


def _named(mapping: Mapping, key: str) -> str:
    # An openid only means something inside one account; a unionid is personal data and stays out of
    # the job's stored messages (the line number finds it).
    return f"openid {key}" if mapping.key_type == "openid" else "this unionid"


def _unionid_index(account: OfficialAccount, keys: set[str]) -> dict[str, list[int]]:
    # unionid has no index: one pass over the account's fans beats a table scan per chunk of keys.
    found: dict[str, list[int]] = {}
    fans = Fan.objects.filter(account=account).exclude(unionid="").values_list("unionid", "id")
    for unionid, fan_id in fans.iterator(chunk_size=5000):
        if unionid in keys:
            found.setdefault(unionid, []).append(fan_id)
    return found


def _load(qs: QuerySet[Fan], lock: bool) -> dict[int, FanRow]:
    # One query finds and reads the fans. Locked in id order, so two commits queue instead of deadlocking;
    # otherwise unordered: SQLite (no row locks) would answer ORDER BY id by walking the primary key.
    row_locks = lock and connection.features.has_select_for_update
    qs = qs.select_for_update().order_by("pk") if row_locks else qs.order_by()
    return {
        fan_id: (openid, unionid, following, attributes if isinstance(attributes, dict) else {}, erased_at)
        for fan_id, openid, unionid, following, attributes, erased_at in qs.values_list(
            "id", "openid", "unionid", "is_following", "attributes", "personal_data_erased_at"
        )
    }


def _chunks(rows: list[Row], size: int) -> Iterator[list[Row]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
