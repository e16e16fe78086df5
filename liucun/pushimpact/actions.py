"""Named writes on the moments push impact judges, each in one transaction with its audit entry.

A moment is the same moment when its time and title are: entering it again (a CSV uploaded twice, a
second import from WeChat) adds nothing. Times are given and shown in the site's time zone (China time).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils.functional import lazy
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from liucun.accounts.models import OfficialAccount
from liucun.accounts.wechat_api import client_for
from liucun.analytics.periods import site_zone
from liucun.crm import csvfile
from liucun.pushimpact.models import NOTE_MAX_CHARS, TITLE_MAX_CHARS, Push, PushSource
from liucun.refusals import Refused, Text
from liucun.staff.audit import record
from liucun.wechat.api import publishing
from liucun.wechat.apierrors import WeChatAPIError
from liucun.wechat_refusals import WeChatRefused

Actor = AbstractBaseUser | str

CSV_MAX_ROWS = 5000
YEARS = (2000, 2100)  # WeChat official accounts began in 2012; anything outside is a typing mistake
# Publications read from WeChat in one import (freepublish/batchget pages of 20).
PUBLISHED_MAX = 1000
# Column names a CSV may use, in English or Chinese.
DATE_COLUMNS = ("date", "日期", "发布日期", "推送日期")
TIME_COLUMNS = ("time", "时间", "发布时间", "推送时间")
TITLE_COLUMNS = ("title", "标题", "文章标题")
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")


BAD_MOMENT = _("Line {line}: the date and time must read like 2026-02-01 and 20:00, not “{value}”.")


class PushRefused(Refused):
    code = "pushes.refused"


class NoSuchPush(PushRefused):
    status = 404
    code = "pushes.not_found"


@dataclass(frozen=True)
class Added:
    added: int
    already_known: int


def _clean_title(title: str) -> str:
    what = _("title")
    title = " ".join((title or "").split())
    if not title:
        raise PushRefused(_("%(what)s: a push needs a title."), {"what": what}, code="pushes.title")
    if len(title) > TITLE_MAX_CHARS:
        raise PushRefused(
            _("%(what)s: at most %(n)d characters."),
            {"what": what, "n": TITLE_MAX_CHARS},
            code="pushes.title",
        )
    return title


def _as_stored(at: datetime) -> datetime:
    # Minutes are what operators know; seconds would make "the same moment" depend on the source.
    return at.astimezone(UTC).replace(second=0, microsecond=0)


def _user(actor: Actor) -> Any:
    """The user to remember as the creator; an API token's label has none."""
    return actor if isinstance(actor, AbstractBaseUser) else None


def _add(actor: Actor, account: OfficialAccount, pushes: list[Push], action: str, target: str) -> Added:
    """Store the pushes that are new (by time and title) and audit what was added."""
    user = _user(actor)
    with transaction.atomic():
        times = [p.at for p in pushes]
        known = (
            set(
                Push.objects.filter(account=account, at__gte=min(times), at__lte=max(times)).values_list(
                    "at", "title"
                )
            )
            if pushes
            else set()
        )
        fresh: dict[tuple[datetime, str], Push] = {}
        for push in pushes:
            key = (push.at, push.title)
            if key not in known and key not in fresh:
                push.account, push.created_by = account, user
                fresh[key] = push
        Push.objects.bulk_create(fresh.values(), ignore_conflicts=True)
        result = Added(len(fresh), len(pushes) - len(fresh))
        record(
            actor,
            action,
            account=account,
            target=target,
            changes={"added": result.added, "already_known": result.already_known},
        )
    return result


def annotate(actor: Actor, account: OfficialAccount, at: datetime, title: str, note: str = "") -> Push:
    """Mark a moment to judge (a push sent elsewhere, an event): its time and what happened."""
    title = _clean_title(title)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_CHARS:
        raise PushRefused(_("note: at most %(n)d characters."), {"n": NOTE_MAX_CHARS}, code="pushes.note")
    if not YEARS[0] <= at.year <= YEARS[1]:
        raise PushRefused(
            _("time: a year from %(first)d to %(last)d."),
            {"first": YEARS[0], "last": YEARS[1]},
            code="pushes.time",
        )
    if at.tzinfo is None:
        at = at.replace(tzinfo=site_zone())
    at = _as_stored(at)
    with transaction.atomic():
        existing = Push.objects.filter(account=account, at=at, title=title).first()
        if existing is not None:
            return existing
        user = _user(actor)
        push = Push.objects.create(
            account=account, at=at, title=title, note=note, source=PushSource.ANNOTATION, created_by=user
        )
        record(actor, "push.annotate", account=account, target=f"{at:%Y-%m-%d %H:%M} {title}")
    return push


def parse_moment(day: str, clock: str) -> datetime | None:
    """A China date and time as an aware datetime; None when either cannot be read."""
    day_match, clock_match = _DATE.match(day.strip()), _TIME.match(clock.strip())
    if day_match is None or clock_match is None:
        return None
    try:
        d = date(*(int(g) for g in day_match.groups()))
        t = time(int(clock_match[1]), int(clock_match[2]), int(clock_match[3] or 0))
    except ValueError:
        return None
    if not YEARS[0] <= d.year <= YEARS[1]:
        return None
    return datetime.combine(d, t, tzinfo=site_zone())


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def import_csv(actor: Actor, account: OfficialAccount, data: bytes, filename: str = "") -> Added:
    """Pushes from a CSV of date, time and title (China time): all of it, or nothing and every problem
    with its line number."""
    try:
        sheet = csvfile.read(data)
    except csvfile.FileProblem as exc:
        raise PushRefused(
            _("The file cannot be read: %(problem)s."), {"problem": str(exc)}, code="pushes.csv"
        ) from None
    columns = [_column(sheet.header, names) for names in (DATE_COLUMNS, TIME_COLUMNS, TITLE_COLUMNS)]
    if any(c is None for c in columns):
        raise PushRefused(
            _("The first line must name the columns date, time and title (or 日期, 时间, 标题)."),
            code="pushes.csv_header",
        )
    day_at, clock_at, title_at = (c for c in columns if c is not None)
    problems: list[Text] = []
    pushes: list[Push] = []
    try:
        for line, row in sheet.rows():
            cells = [*row, "", "", ""]
            moment = parse_moment(cells[day_at], cells[clock_at])
            if moment is None:
                problems.append(
                    format_lazy(
                        BAD_MOMENT,
                        line=line,
                        value=f"{cells[day_at]} {cells[clock_at]}".strip()[:40],
                    )
                )
                continue
            try:
                title = _clean_title(cells[title_at])
            except PushRefused as refused:
                # Rendered when read, in the reader's language (the console's, or the API caller's).
                problem = lazy(lambda r=refused: r.message, str)()
                problems.append(format_lazy(_("Line {line}: {problem}"), line=line, problem=problem))
                continue
            pushes.append(Push(at=_as_stored(moment), title=title, source=PushSource.CSV))
            if len(pushes) + len(problems) > CSV_MAX_ROWS:
                raise PushRefused(
                    _("A file holds at most %(n)d pushes; split it."),
                    {"n": CSV_MAX_ROWS},
                    code="pushes.csv_size",
                )
    except csvfile.FileProblem as exc:
        raise PushRefused(
            _("The file cannot be read: %(problem)s."), {"problem": str(exc)}, code="pushes.csv"
        ) from None
    if problems:
        # Every problem, each on its line: the operator fixes the sheet once, not line by line.
        raise PushRefused(problems[:50], code="pushes.csv_lines")
    if not pushes:
        raise PushRefused(_("The file has no pushes under its header."), code="pushes.csv_empty")
    return _add(actor, account, pushes, "push.import_csv", filename[:100])


def import_published(actor: Actor, account: OfficialAccount) -> Added:
    """Articles the account published (发布) in WeChat, read from its publishing history: each becomes a
    moment at its update time, titled by its first article."""
    client = client_for(account)
    pushes: list[Push] = []
    offset = 0
    try:
        while offset < PUBLISHED_MAX:
            listing = publishing.published(client, offset, publishing.PAGE_MAX, with_content=False)
            for stored in listing.items:
                title = stored.articles[0].title if stored.articles else stored.id
                extra = len(stored.articles) - 1
                title = " ".join(title.split())[: TITLE_MAX_CHARS - 6] or stored.id[:TITLE_MAX_CHARS]
                if extra > 0:
                    title = f"{title} (+{extra})"
                at = datetime.fromtimestamp(stored.update_time, UTC)
                pushes.append(
                    Push(at=_as_stored(at), title=title, source=PushSource.PUBLISHED, external_id=stored.id)
                )
            offset += len(listing.items)
            if not listing.items or offset >= listing.total:
                break
    except WeChatAPIError as exc:
        raise WeChatRefused(exc, _("Reading the publishing history")) from exc
    return _add(actor, account, pushes, "push.import_published", "")


def push_of(account: OfficialAccount, push_id: int) -> Push:
    push = Push.objects.filter(account=account, pk=push_id).first()
    if push is None:
        raise NoSuchPush(_("There is no such push."))
    return push


def delete_push(actor: Actor, account: OfficialAccount, push_id: int) -> None:
    with transaction.atomic():
        push = push_of(account, push_id)
        target = f"{push.at.astimezone(site_zone()):%Y-%m-%d %H:%M} {push.title}"
        push.delete()
        record(actor, "push.delete", account=account, target=target)


def as_json(push: Push) -> dict[str, Any]:
    return {
        "id": push.pk,
        "at": push.at,
        "title": push.title,
        "source": push.source,
        "note": push.note,
        "external_id": push.external_id,
    }
