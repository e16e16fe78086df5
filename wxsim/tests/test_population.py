"""The population engine: deterministic for a seed, and fans respond to how they are treated."""

from __future__ import annotations

from collections import Counter

from wxsim.population.engine import DAY, Population
from wxsim.population.scenario import DEMO, Scenario

T0 = 1_750_000_000.0


def _history(population: Population, days: int, answer: bool = False) -> list:
    actions = []
    t = T0
    for _ in range(days):
        day = population.advance(t, t + DAY)
        if answer:
            for a in day:
                if a.reason == "question":
                    population.notify(a.openid, "customer_service", a.time + 60)
        actions.extend(day)
        t += DAY
    return actions


def test_same_seed_same_history() -> None:
    one = _history(Population(DEMO, appid="wx0000000000000001", seed=5), 30)
    two = _history(Population(DEMO, appid="wx0000000000000001", seed=5), 30)
    other = _history(Population(DEMO, appid="wx0000000000000001", seed=6), 30)
    assert one == two and one != other
    assert len({a.openid for a in one if a.action == "follow"}) > 500


def test_giveaway_fans_leave_far_sooner() -> None:
    population = Population(DEMO, appid="wx0000000000000002", seed=1)
    actions = _history(population, 60, answer=True)  # isolate the giveaway effect from unanswered questions
    follows = {a.openid: a for a in actions if a.action == "follow" and a.reason.startswith("channel")}
    unfollows: dict[str, list[float]] = {}
    for a in actions:
        if a.action == "unfollow":
            unfollows.setdefault(a.openid, []).append(a.time)
    left_within_week = Counter()
    joined = Counter()
    for openid, follow in follows.items():
        channel = population.fans[openid].channel
        joined[channel.giveaway] += 1
        if any(t - follow.time < 7 * DAY for t in unfollows.get(openid, ())):
            left_within_week[channel.giveaway] += 1
    assert left_within_week[True] / joined[True] > 5 * left_within_week[False] / joined[False]
    reasons = Counter(a.reason for a in actions if a.action == "unfollow")
    assert reasons["giveaway collected"] > 0


def test_answering_questions_keeps_fans() -> None:
    talkative = Scenario.from_dict(
        {
            "name": "talkative",
            "new_fans_per_day": 40,
            "question_share": 0.8,
            "unanswered_effect": 2.0,
            "unanswered_cap": 6.0,
            "channels": [
                {"scene": "", "label": "search", "weight": 1, "daily_hazard": 0.01, "activity": 1.0}
            ],
        }
    )
    ignored = Population(talkative, appid="wx0000000000000003", seed=2)
    answered = Population(talkative, appid="wx0000000000000003", seed=2)
    _history(ignored, 45)
    _history(answered, 45, answer=True)

    def following(p: Population) -> int:
        return sum(f.following for f in p.fans.values())

    assert following(answered) > following(ignored) * 1.2
    assert any(f.unanswered for f in ignored.fans.values())
    assert not any(f.unanswered for f in answered.fans.values())
    reasons = Counter(
        a.reason for a in _history(Population(talkative, appid="wx0000000000000003", seed=2), 45)
    )
    assert reasons["unanswered questions"] > reasons["natural"]


def test_scenario_validation() -> None:
    import pytest

    with pytest.raises(ValueError, match="channel"):
        Scenario.from_dict({"name": "x", "new_fans_per_day": 1, "channels": []})
    with pytest.raises(ValueError, match="unknown scenario fields"):
        Scenario.from_dict(
            {
                "name": "x",
                "new_fans_per_day": 1,
                "colour": "red",
                "channels": [{"scene": "", "label": "s", "weight": 1, "daily_hazard": 0, "activity": 0}],
            }
        )


def test_pushes_to_everyone_drive_fans_away_more_than_targeted_ones() -> None:
    calm = Scenario.from_dict(
        {
            "name": "calm",
            "new_fans_per_day": 40,
            "question_share": 0.0,
            "push_tolerance_per_week": 1,
            "push_effect": 3.0,
            "push_cap": 20.0,
            "channels": [
                {"scene": "", "label": "search", "weight": 1, "daily_hazard": 0.005, "activity": 0.1}
            ],
        }
    )
    blasted = Population(calm, appid="wx0000000000000004", seed=3)
    targeted = Population(calm, appid="wx0000000000000004", seed=3)
    t = T0
    for day in range(40):
        for population, aimed in ((blasted, False), (targeted, True)):
            population.advance(t, t + DAY)
            if day % 2 == 0:  # a push every other day: ~3.5 a week against a tolerance of 1
                for openid in list(population.fans):
                    population.notify(openid, "mass", t + DAY - 1, {"targeted": aimed})
        t += DAY

    def following(p: Population) -> int:
        return sum(f.following for f in p.fans.values())

    assert following(targeted) > following(blasted) * 1.1


def test_a_population_run_sets_its_scenarios_reading_and_refuses_bad_scenarios(control, http) -> None:
    from wxsim.tests.conftest import new_account

    account = new_account(control)
    scenario = {
        "name": "reads",
        "new_fans_per_day": 5,
        "channels": [{"scene": "", "label": "search", "weight": 1, "daily_hazard": 0.001, "activity": 0.1}],
        "reading": {"read_probability": 0.2},
    }
    bad = dict(scenario, pushes=[{"day": 1, "channels": ["nowhere"]}])
    answer = http.post("/wxsim/population", json={"appid": account["appid"], "scenario": bad})
    assert answer.status_code == 400 and "unknown channels: nowhere" in answer.text
    assert http.get("/wxsim/reading", params={"appid": account["appid"]}).json()["read_probability"] == 0.05
    answer = http.post(
        "/wxsim/population", json={"appid": account["appid"], "scenario": scenario, "history_days": 2}
    )
    assert answer.status_code == 202
    assert http.get("/wxsim/reading", params={"appid": account["appid"]}).json()["read_probability"] == 0.2
    http.delete("/wxsim/population", params={"appid": account["appid"]})
