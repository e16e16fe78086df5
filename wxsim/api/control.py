"""The control API under /wxsim/: what tests, benchmarks and the demo use to drive the simulator.

Reserved prefix: WeChat has no /wxsim/ paths, so nothing here can shadow a real endpoint.
"""

from __future__ import annotations

from typing import Any

from wxsim import kf
from wxsim.actions import MESSAGE_TYPES, ActionError, apply_action
from wxsim.api.routing import Request, Response, api, json_response
from wxsim.delivery import deliver
from wxsim.model import Faults


def _bad(message: str, status: int = 400) -> Response:
    return json_response({"error": message}, status)


@api("POST", "/wxsim/reset", token=False, faults=False)
def reset(request: Request) -> dict[str, Any]:
    seed = request.json().get("seed")
    request.world.reset(int(seed) if seed is not None else None)
    return {"ok": True, "seed": request.world.seed}


@api("POST", "/wxsim/accounts", token=False, faults=False)
def create_account(request: Request) -> Any:
    try:
        account = request.world.add_account(request.json())
    except ValueError as exc:
        return _bad(str(exc))
    return json_response(account.public(), 201)


@api("GET", "/wxsim/accounts", token=False, faults=False)
def list_accounts(request: Request) -> dict[str, Any]:
    return {"accounts": [a.public() for a in request.world.accounts.values()]}


@api("GET", "/wxsim/clock", token=False, faults=False)
def get_clock(request: Request) -> dict[str, Any]:
    return request.world.clock.as_dict()


@api("POST", "/wxsim/clock", token=False, faults=False)
def set_clock(request: Request) -> Any:
    body, clock = request.json(), request.world.clock
    try:
        if "mode" in body:
            clock.set_mode(str(body["mode"]), float(body.get("factor", 1.0)))
        if "set" in body:
            clock.set(float(body["set"]))
        if "advance" in body:
            clock.advance(float(body["advance"]))
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return clock.as_dict()


@api("POST", "/wxsim/fans", token=False, faults=False)
def create_fans(request: Request) -> Any:
    body = request.json()
    count = int(body.get("count", 1))
    try:
        fans = [
            request.world.add_fan(
                str(body.get("appid", "")),
                openid=body.get("openid") if count == 1 else None,
                following=bool(body.get("following", True)),
                subscribe_time=body.get("subscribe_time"),
                scene=str(body.get("scene", "")),
                refuses_messages=bool(body.get("refuses_messages", False)),
            )
            for _ in range(count)
        ]
    except ValueError as exc:
        return _bad(str(exc))
    return json_response({"openids": [f.openid for f in fans]}, 201)


@api("GET", "/wxsim/fans", token=False, faults=False)
def list_fans(request: Request) -> dict[str, Any]:
    account = request.world.account(request.query.get("appid", ""))
    with request.world.lock:
        return {
            "fans": [
                {**account.fans[o].info(), "blacklisted": account.fans[o].blacklisted}
                for o in account.fan_order
            ]
        }


@api("POST", "/wxsim/act", token=False, faults=False)
def act(request: Request) -> Any:
    body = dict(request.json())
    # The fan acts, but WeChat's callback never reaches the account (it does happen): only a follower
    # sync can find out. The ground truth still records the action.
    drop_callback = bool(body.pop("drop_callback", False))
    try:
        done = apply_action(
            request.world,
            str(body.pop("appid", "")),
            str(body.pop("action", "")),
            body.pop("openid", None),
            at=body.pop("at", None),
            reason=str(body.pop("reason", "")),
            **body,
        )
    except ActionError as exc:
        return _bad(str(exc))
    answer: dict[str, Any] = {
        "openid": done.fan.openid,
        "action": done.action,
        "time": done.at,
        "delivery": None,
    }
    if drop_callback:
        return answer
    message = done.action in MESSAGE_TYPES
    if message:
        with request.world.lock:
            agent = kf.forwarded_to(done.account, done.fan, done.at)
        if agent is not None:  # in a customer-service session the agent gets it, not the message server
            return {**answer, "forwarded_to_kf": agent}
    result = deliver(
        done.account, done.xml, done.fan.openid, done.at, retries=int(request.query.get("retries", "3"))
    )
    answer["delivery"] = result.as_dict()
    if result.reply not in ("", "success") and result.delivered:
        is_transfer, named = kf.transfer_target(result.reply)
        if is_transfer and message:
            request.world.record(
                done.account.appid, done.fan.openid, "transfer_customer_service", {"xml": result.reply}
            )
            with request.world.lock:
                taken = kf.transfer(done.account, done.fan, named, done.at)
            answer["kf_session"] = taken
            if taken is not None:
                event = kf.event_xml(done.account, done.fan, done.at, "kf_create_session", KfAccount=taken)
                deliver(done.account, event, done.fan.openid, done.at)
        else:
            request.world.record(done.account.appid, done.fan.openid, "passive_reply", {"xml": result.reply})
    return answer


@api("GET", "/wxsim/recorder", token=False, faults=False)
def recorder(request: Request) -> dict[str, Any]:
    q = request.query
    since = float(q.get("since", 0))
    with request.world.lock:
        entries = [
            entry
            for entry in request.world.recorder
            if entry["time"] >= since
            and all(not q.get(k) or entry[k] == q[k] for k in ("appid", "openid", "kind"))
        ]
    return {"entries": entries}


@api("GET", "/wxsim/truth", token=False, faults=False)
def truth(request: Request) -> dict[str, Any]:
    appid = request.query.get("appid")
    with request.world.lock:
        return {"events": [t for t in request.world.truth if not appid or t["appid"] == appid]}


@api("POST", "/wxsim/faults", token=False, faults=False)
def set_faults(request: Request) -> Any:
    body = dict(request.json())
    account = request.world.account(str(body.pop("appid", "")))
    known = set(Faults().as_dict())
    unknown = set(body) - known
    if unknown:
        return _bad(f"unknown faults: {', '.join(sorted(unknown))}")
    script = body.get("script", [])
    if not isinstance(script, list) or not all(
        isinstance(e, dict)
        and isinstance(e.get("path"), str)
        and len({"errcode", "status", "sleep"} & set(e)) == 1
        for e in script
    ):
        return _bad("script is a list of {path, and one of errcode, status, sleep}")
    allowlist = body.get("ip_allowlist", [])
    if not isinstance(allowlist, list) or not all(isinstance(ip, str) for ip in allowlist):
        return _bad("ip_allowlist is a list of addresses")
    with request.world.lock:
        for name, value in body.items():
            if name == "script":
                account.faults.script.extend(value)
            else:
                setattr(account.faults, name, value)
        if body.get("token_storm"):
            request.world.start_token_storm(account)
    return account.faults.as_dict()


@api("DELETE", "/wxsim/faults", token=False, faults=False)
def clear_faults(request: Request) -> dict[str, Any]:
    account = request.world.account(request.query.get("appid", ""))
    with request.world.lock:
        account.faults = Faults()
        account.storm_before_seq = None
    return account.faults.as_dict()


@api("POST", "/wxsim/population", token=False, faults=False)
def start_population(request: Request) -> Any:
    from wxsim.population.driver import PopulationRun
    from wxsim.population.engine import Population
    from wxsim.population.scenario import DEMO, Scenario

    body = request.json()
    appid = str(body.get("appid", ""))
    request.world.account(appid)
    try:
        raw = body.get("scenario", "demo")
        scenario = DEMO if raw == "demo" else Scenario.from_dict(raw)
        run = PopulationRun(
            request.world,
            Population(scenario, appid=appid, seed=int(body.get("seed", request.world.seed))),
            history_days=int(body.get("history_days", 0)),
            live=bool(body.get("live", False)),
            factor=float(body.get("factor", 1.0)),
            history_start=float(body["history_start"]) if body.get("history_start") is not None else None,
        )
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    with request.world.lock:
        previous = request.world.populations.get(appid)
        if previous is not None:
            previous.stop()
        request.world.populations[appid] = run
    run.start()
    return json_response(run.status.as_dict(), 202)


@api("GET", "/wxsim/population", token=False, faults=False)
def population_status(request: Request) -> Any:
    run = request.world.populations.get(request.query.get("appid", ""))
    if run is None:
        return _bad("no population runs for this account", 404)
    return run.status.as_dict()


@api("DELETE", "/wxsim/population", token=False, faults=False)
def stop_population(request: Request) -> Any:
    run = request.world.populations.get(request.query.get("appid", ""))
    if run is None:
        return _bad("no population runs for this account", 404)
    run.stop()
    return run.status.as_dict()
