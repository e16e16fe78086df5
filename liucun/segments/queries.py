"""Reading saved filters: a version's filter, and its fans as the fan list reads them (in SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field

from liucun.fans.filters import FanFilter, FilterError
from liucun.fans.models import Fan
from liucun.fans.queries import ORDERINGS, PagedFans, fan_pages
from liucun.segments.models import SavedFilter, SavedFilterVersion
from liucun.tags.models import Tag

MISSING_TAG = "the tag this filter names no longer exists, so it matches no fans"


@dataclass(frozen=True)
class Evaluation:
    """A saved filter's fans at one version, and why it matches nothing when it cannot match anything."""

    version: int
    filter: FanFilter | None  # None when the stored JSON no longer reads as a FanFilter
    fans: PagedFans
    problems: list[str] = field(default_factory=list)


def version_of(saved: SavedFilter, version: int | None = None) -> SavedFilterVersion:
    """The given version (or the current one); SavedFilterVersion.DoesNotExist if there is none."""
    return saved.versions.get(version=saved.version if version is None else version)


def fans_of(saved: SavedFilter, version: int | None = None, ordering: str = "-followed_at") -> Evaluation:
    """The fans the saved filter matches, paged exactly like the fan list (queries.fan_pages).

    ValueError for an unknown ordering; SavedFilterVersion.DoesNotExist for an unknown version.
    """
    row = version_of(saved, version)
    try:
        filt = FanFilter.from_json(row.filter)
    except FilterError as exc:
        return Evaluation(row.version, None, _nothing(ordering), [f"the stored filter cannot be read: {exc}"])
    problems = problems_of(saved, filt)
    pages = _nothing(ordering) if problems else fan_pages(saved.account, filt, ordering)
    return Evaluation(row.version, filt, pages, problems)


def problems_of(saved: SavedFilter, filt: FanFilter, tag_ids: set[int] | None = None) -> list[str]:
    """Why the filter can match no fan. `tag_ids`: the account's tags, when already read for a list."""
    if filt.tag is None:
        return []
    if tag_ids is None:
        exists = Tag.objects.filter(account_id=saved.account_id, pk=filt.tag).exists()
    else:
        exists = filt.tag in tag_ids
    return [] if exists else [MISSING_TAG]


def _nothing(ordering: str) -> PagedFans:
    if ordering not in ORDERINGS:
        raise ValueError(f"ordering must be one of {', '.join(ORDERINGS)}")
    return PagedFans(Fan.objects.none())  # counts and slices without asking the database
