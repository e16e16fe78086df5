"""Where pulling stands, for the console's status block and the API (reads only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db.models import Max, Min
from django.utils.translation import gettext as _

from liucun.accounts.models import OfficialAccount
from liucun.reconcile.models import PullState, PullStatus, WeChatDay
from liucun.reconcile.pulling import BACK_DAYS, latest_available, wanted_days
from liucun.wechat_refusals import SENTENCES


def refusal_text(state: PullState) -> str:
    """The last refusal or failure in the reader's language when WeChat's code is one we have words for."""
    if state.errcode is not None and state.errcode in SENTENCES:
        return _("WeChat refused: %(reason)s (errcode %(code)d).") % {
            "reason": SENTENCES[state.errcode],
            "code": state.errcode,
        }
    if state.error_code == "reconcile.not_verified":
        return _("WeChat gives follower statistics to verified accounts only.")
    return state.message


@dataclass(frozen=True)
class PullStatusView:
    status: str
    status_label: str
    running: bool
    allowed: bool  # the account may use WeChat's statistics at all
    problem: str  # the last refusal or failure, or ""
    error_code: str
    requested_by: str
    last_started_at: datetime | None
    last_finished_at: datetime | None
    last_success_at: datetime | None
    days_wanted: int
    days_done: int
    days_pulled: int  # in the window pulled (BACK_DAYS up to the latest published day)
    days_missing: int
    first_pulled: date | None
    last_pulled: date | None
    latest_published: date


def pull_status(account: OfficialAccount, now: datetime | None = None) -> PullStatusView:
    now = now or datetime.now(UTC)
    state = PullState.objects.filter(account=account).first() or PullState(account=account)
    first, last = wanted_days(now, BACK_DAYS)
    days = WeChatDay.objects.filter(account=account)
    span = days.aggregate(first=Min("day"), last=Max("day"))
    pulled = days.filter(day__gte=first, day__lte=last).count()
    running = state.claimed_until is not None and state.claimed_until > now
    status, problem = state.status, ""
    if running:
        status = PullStatus.RUNNING
    elif status == PullStatus.RUNNING:
        status = PullStatus.FAILED
        problem = _("The last pull stopped before it finished; the next one continues where it stopped.")
    elif status in (PullStatus.REFUSED, PullStatus.FAILED):
        problem = refusal_text(state)
    return PullStatusView(
        status=status,
        status_label=str(PullStatus(status).label),
        running=running,
        allowed=account.capabilities.datacube,
        problem=problem,
        error_code=state.error_code if problem else "",
        requested_by=state.requested_by,
        last_started_at=state.last_started_at,
        last_finished_at=state.last_finished_at,
        last_success_at=state.last_success_at,
        days_wanted=state.days_wanted,
        days_done=state.days_done,
        days_pulled=pulled,
        days_missing=(last - first).days + 1 - pulled,
        first_pulled=span["first"],
        last_pulled=span["last"],
        latest_published=latest_available(now),
    )
