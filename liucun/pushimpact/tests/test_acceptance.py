"""Issue 13's acceptance for push impact: a year-like bulk history with a planted harmful push and a
harmless one, loaded through the callback's code; the pushes entered as an operator would (a CSV at the
times the file's header lists); the report flags the first and not the second."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from liucun.analytics.periods import site_zone
from liucun.console.tests.conftest import logged_in, make_user, member
from liucun.pushimpact.consumer import HourlyFlowsConsumer
from liucun.readmodels import runner
from liucun.staff.models import Role
from liucun.testing.factories import make_account
from wxsim.population.bulk import generate, write
from wxsim.population.scenario import Scenario

pytestmark = pytest.mark.django_db

# Monday 2026-01-05 00:00 in China: day fractions of the scenario are China times.
START = int(datetime(2026, 1, 4, 16, tzinfo=UTC).timestamp())
SCENARIO = Scenario.from_dict(
    {
        "name": "push impact acceptance",
        "new_fans_per_day": 80,
        "channels": [
            {"scene": "store", "label": "门店", "weight": 2, "daily_hazard": 0.002, "activity": 0.02},
            {"scene": "", "label": "搜索", "weight": 1, "daily_hazard": 0.002, "activity": 0.02},
        ],
        "question_share": 0,  # nobody answers a bulk file: keep grudges out of the picture
        "push_cap": 20,
        "pushes": [
            {"name": "harmful", "day": 40.5, "hazard_multiplier": 15, "hours": 24},
            {"name": "harmless", "day": 54 + 20 / 24, "hazard_multiplier": 1, "hours": 24},
        ],
    }
)


def test_a_planted_harmful_push_is_flagged_and_a_harmless_one_is_not(tmp_path: Path) -> None:
    account = make_account(mode="safe")
    header, arrays = generate(
        SCENARIO,
        appid=account.appid,
        original_id=account.original_id,
        seed=21,
        fans=3000,
        days=70,
        start=START,
    )
    path = tmp_path / "history.bin"
    write(path, header, arrays)
    call_command("import_history", str(path))
    runner.run(HourlyFlowsConsumer())

    operator = logged_in(member(make_user("op"), account, Role.OPERATOR))
    sheet = io.StringIO()
    writer = csv.writer(sheet)
    writer.writerow(["日期", "时间", "标题"])
    titles = {"harmful": "春节促销", "harmless": "新品上市"}
    for push in header["pushes"]:
        at = datetime.fromtimestamp(push["time"], site_zone())
        writer.writerow([at.strftime("%Y-%m-%d"), at.strftime("%H:%M"), titles[push["name"]]])
    upload = io.BytesIO(sheet.getvalue().encode("gb18030"))
    upload.name = "pushes.csv"
    answer = operator.post(reverse("console:push-import-csv", args=[account.appid]), {"file": upload})
    assert answer.status_code == 302

    first_day = datetime.fromtimestamp(START, site_zone()).date()
    params = {"start": first_day.isoformat(), "end": (first_day + timedelta(days=69)).isoformat()}
    url = reverse("api:report_push_impact", args=[account.appid])
    body = operator.get(url, params).json()
    began = time.perf_counter()
    assert operator.get(url, params).json() == body
    elapsed = time.perf_counter() - began
    rows = {row["title"]: row for row in body["rows"]}
    harmful, harmless = rows["春节促销"], rows["新品上市"]
    assert (harmful["rank"], harmful["flagged"], harmless["flagged"]) == (1, True, False)
    assert harmful["p_24h"] < 0.001 and harmful["excess_24h"] > 3 * harmful["expected_24h"]
    assert harmless["p_24h"] > 0.05 and harmless["baseline_weeks"] >= 3
    assert body["findings"][0].startswith("“春节促销” (")
    print(f"push-impact build {elapsed * 1000:.0f} ms; rows {body['rows']}; meta {body['meta']}")
