"""`liucun import-history`: a wxsim bulk file stored through the callback's code, safely re-runnable."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from liucun.events.models import Event
from liucun.fans.models import Fan, FollowPeriod
from liucun.inbound.history_import import HistoryFile
from liucun.testing.factories import make_account
from wxsim.population.bulk import generate, write
from wxsim.population.scenario import DEMO

pytestmark = pytest.mark.django_db


def _bulk(tmp_path: Path, account, fans: int = 300, days: int = 45) -> Path:
    header, arrays = generate(
        DEMO,
        appid=account.appid,
        original_id=account.original_id,
        seed=8,
        fans=fans,
        days=days,
        start=1_700_000_000,
    )
    path = tmp_path / "history.bin"
    write(path, header, arrays)
    return path


def test_import_matches_the_files_ground_truth(tmp_path: Path, capsys) -> None:
    account = make_account(mode="safe")
    path = _bulk(tmp_path, account)
    call_command("import_history", str(path))
    history = HistoryFile(path)
    following: dict[str, bool] = {}
    unfollows = 0
    for i in range(history.events):
        if history.kind[i] in (0, 1):
            following[history.openid(history.fan[i])] = history.kind[i] == 0
            unfollows += history.kind[i] == 1
    total = history.events
    history.close()
    assert Event.objects.filter(account=account).count() == total
    stored = dict(Fan.objects.filter(account=account).values_list("openid", "is_following"))
    assert stored == following
    # Fans may follow again after unfollowing: one closed period for each unfollow in the file.
    assert FollowPeriod.objects.filter(account=account, unfollowed_at__isnull=False).count() == unfollows
    assert not Event.objects.filter(account=account).exclude(reply="").exists()  # history gets no replies
    call_command("import_history", str(path))  # again: nothing new, nothing doubled
    assert Event.objects.filter(account=account).count() == total
    assert "already stored" in capsys.readouterr().out


def test_import_refuses_bad_files_and_changes_nothing(tmp_path: Path) -> None:
    account = make_account(mode="safe")
    header, arrays = generate(
        DEMO, appid=account.appid, original_id="gh_notthisone", seed=1, fans=10, days=5, start=1_700_000_000
    )
    foreign = tmp_path / "foreign.bin"
    write(foreign, header, arrays)
    with pytest.raises(CommandError, match="not"):
        call_command("import_history", str(foreign))
    path = _bulk(tmp_path, account, fans=10, days=5)
    truncated = tmp_path / "cut.bin"
    truncated.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(CommandError, match="truncated"):
        call_command("import_history", str(truncated))
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b'{"format": "something else"}\n')
    with pytest.raises(CommandError, match="not a wxsim-bulk"):
        call_command("import_history", str(bad))
    assert Event.objects.count() == 0
