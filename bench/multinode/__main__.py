"""python -m bench.multinode: two web nodes, two workers and one PostgreSQL, with machines lost mid-run.

Run it with `make test-multinode` (scripts/multinode starts the PostgreSQL). See bench/multinode/README.md
and docs/deploy.md ("Verified on one machine"). Exits non-zero when any check fails.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import secrets
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from bench.ingest.deliveries import build
from bench.multinode.load import Sent, send_all
from bench.multinode.nodes import REPO, Node, port_free, python, wait_http

PROXY, WEB_A, WEB_B, WXSIM, WECHAT = 18000, 18001, 18002, 18010, 18011
LOAD_APPID, LOAD_ORIGINAL = "wx6d756c74690000a1", "gh_6d756c746901"
JOBS_APPID, JOBS_ORIGINAL = "wx6d756c74690000b2", "gh_6d756c746902"
SYNC_TASK, TAG_TASK = "liucun.fans.tasks.sync_followers", "liucun.tags.tasks.run_tag_job"
USER_GET_DELAY, TAGGING_DELAY = 3.0, 0.25  # seconds added by the WeChat-side proxy: jobs long enough to kill


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.multinode", description=__doc__)
    parser.add_argument("--rate", type=float, default=60.0, help="callbacks per second through the proxy")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the callbacks keep coming")
    parser.add_argument("--fans", type=int, default=12000, help="followers in wxsim for the follower sync")
    parser.add_argument("--tagged", type=int, default=1500, help="fans the tag job tags (50 a WeChat call)")
    parser.add_argument("--stalled-after", type=int, default=10, help="LIUCUN_JOB_STALLED_AFTER_SECONDS")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs) afterwards")
    return parser.parse_args()


class Run:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args, self.work = args, work
        self.logs = work / "log"
        self.logs.mkdir(parents=True)
        self.calls = work / "wechat-calls.jsonl"
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="liucun.settings",
            LIUCUN_DEBUG="false",
            LIUCUN_SECRET_KEY=secrets.token_urlsafe(50),
            LIUCUN_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
            LIUCUN_DATA_DIR=str(work / "liucun"),
            LIUCUN_ALLOWED_HOSTS="127.0.0.1",
            LIUCUN_TRUSTED_PROXIES="127.0.0.1",
            LIUCUN_LOG_LEVEL="warning",
            LIUCUN_JOB_STALLED_AFTER_SECONDS=str(args.stalled_after),
        )
        liucun = python("-m", "liucun.cli")
        self.webs = [
            Node(
                f"web-{p}",
                [*liucun, "serve", "--bind", f"127.0.0.1:{p}", "--workers", "1", "--threads", "16"],
                self.env,
                self.logs,
            )
            for p in (WEB_A, WEB_B)
        ]
        self.workers = [Node(f"worker-{i}", [*liucun, "worker"], self.env, self.logs) for i in (1, 2)]
        upstreams = [f"--upstream=127.0.0.1:{p}" for p in (WEB_A, WEB_B)]
        self.proxy = Node(
            "proxy",
            python("-m", "bench.multinode.proxy", "--listen", str(PROXY), *upstreams),
            self.env,
            self.logs,
        )
        self.wxsim = Node(
            "wxsim",
            python("-m", "wxsim", "serve", "--port", str(WXSIM), "--seed", str(args.seed)),
            self.env,
            self.logs,
        )
        self.wechat = Node(
            "wechat-proxy",
            python(
                "-m",
                "bench.multinode.proxy",
                "--listen",
                str(WECHAT),
                f"--upstream=127.0.0.1:{WXSIM}",
                "--record",
                str(self.calls),
                "--record-prefix",
                "/cgi-bin/tags/members/",
                "--delay",
                f"/cgi-bin/user/get={USER_GET_DELAY}",
                "--delay",
                f"/cgi-bin/tags/members/batchtagging={TAGGING_DELAY}",
            ),
            self.env,
            self.logs,
        )
        self.events: list[str] = []
        self.started = time.monotonic()
        self.problems: list[str] = []

    def note(self, text: str) -> None:
        line = f"[{time.monotonic() - self.started:6.1f} s] {text}"
        self.events.append(line)
        print(line, flush=True)

    def every_node(self) -> list[Node]:
        return [*self.workers, self.proxy, *self.webs, self.wechat, self.wxsim]


def _secret(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def _wait_for(what: str, check: Callable[[], bool], timeout: float, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for {what}")
        time.sleep(poll)


def set_up(run: Run) -> dict[str, Any]:
    """The database, wxsim with the jobs account's followers, both accounts in Liucun, every node up."""
    busy = [p for p in (PROXY, WEB_A, WEB_B, WXSIM, WECHAT) if not port_free(p)]
    if busy:
        raise RuntimeError(f"ports {busy} are taken (an earlier run still going?)")
    subprocess.run([*python("-m", "liucun.cli"), "migrate", "-v0"], env=run.env, cwd=REPO, check=True)
    run.note("migrated the PostgreSQL database")
    os.environ.update(run.env)
    import django

    django.setup()
    from liucun.accounts.actions import create_account
    from wxsim.control_client import WxsimControl

    # Every process starts at once: on a busy machine each takes many seconds to import Django.
    for node in (*run.webs, *run.workers, run.wxsim):
        node.start()
    wait_http(f"http://127.0.0.1:{WXSIM}/wxsim/clock", run.wxsim)
    run.wechat.start()
    wait_http(f"http://127.0.0.1:{WECHAT}/wxsim/clock", run.wechat)
    control = WxsimControl(f"http://127.0.0.1:{WXSIM}")
    secrets_by_appid: dict[str, dict[str, str]] = {}
    for appid, original, kind, verified in (
        (LOAD_APPID, LOAD_ORIGINAL, "subscription", False),
        (JOBS_APPID, JOBS_ORIGINAL, "service", True),
    ):
        creds = {
            "token": "Multi" + secrets.token_hex(6),
            "encoding_aes_key": _secret(43),
            "secret": _secret(32),
        }
        secrets_by_appid[appid] = creds
        control.add_account(appid=appid, original_id=original, name=appid, mode="safe", **creds)
        create_account(
            appid=appid,
            actor="multinode",
            original_id=original,
            name=f"多节点 {appid[-2:]}",
            account_type=kind,
            verified=verified,
            encryption_mode="safe",
            api_base_url=f"http://127.0.0.1:{WECHAT}",
            welcome_text="欢迎关注！",
            **creds,
        )
    control.add_fans(JOBS_APPID, count=run.args.fans, scene="store_001")
    run.note(f"wxsim: {run.args.fans} followers of the jobs account; both accounts connected")
    for web, port in zip(run.webs, (WEB_A, WEB_B), strict=True):
        wait_http(f"http://127.0.0.1:{port}/healthz", web)
    run.proxy.start()
    wait_http(f"http://127.0.0.1:{PROXY}/healthz", run.proxy)
    from liucun.runner.models import WorkerBeat

    _wait_for("two worker heartbeats", lambda: WorkerBeat.objects.count() >= 2, 60)
    run.note("two web nodes behind the proxy, two workers beating")
    return {"control": control, "load": secrets_by_appid[LOAD_APPID]}


def _worker_holding(run: Run, task_path: str) -> Node | None:
    from django_tasks_db.models import DBTaskResult

    from liucun.runner.models import WorkerBeat

    row = DBTaskResult.objects.filter(status="RUNNING", task_path=task_path).order_by("-started_at").first()
    if row is None or not row.worker_ids:
        return None
    beat = WorkerBeat.objects.filter(worker_id=row.worker_ids[-1]).first()
    return next((w for w in run.workers if beat is not None and w.pid == beat.pid), None)


def _kill_worker_running(run: Run, task_path: str, what: str) -> None:
    holder: list[Node] = []

    def held() -> bool:
        node = _worker_holding(run, task_path)
        holder[:] = [node] if node is not None else []
        return bool(holder)

    _wait_for(f"a worker running {what}", held, 30)
    holder[0].kill()
    run.note(f"SIGKILL {holder[0].name} (pid {holder[0].pid}) in the middle of {what}")
    holder[0].start()
    run.note(f"{holder[0].name} restarted (pid {holder[0].pid}, a new worker id)")


def jobs_with_kills(run: Run, outcome: dict[str, Any]) -> None:
    """A follower sync and then a tag job, each with the worker running it killed half-way."""
    from liucun.accounts.models import OfficialAccount
    from liucun.fans.actions import start_follower_sync
    from liucun.fans.models import SyncJob
    from liucun.jobs.models import JobStatus
    from liucun.tags.actions import create_tag, tag_fans
    from liucun.tags.models import TagJob

    try:
        account = OfficialAccount.objects.get(appid=JOBS_APPID)
        sync = start_follower_sync("multinode", account)
        outcome["sync_id"] = sync.pk
        run.note(f"follower sync {sync.pk} queued ({run.args.fans} followers, 10,000 a page)")
        _wait_for("the sync's first page", lambda: SyncJob.objects.get(pk=sync.pk).seen >= 10000, 60)
        _kill_worker_running(run, SYNC_TASK, f"follower sync {sync.pk}")
        _wait_for(
            "the sync to finish",
            lambda: SyncJob.objects.get(pk=sync.pk).status == JobStatus.DONE,
            90,
            poll=0.5,
        )
        run.note(f"follower sync {sync.pk} done (attempt {SyncJob.objects.get(pk=sync.pk).attempt})")
        tag = create_tag("multinode", account, "多节点验证")
        openids = list(
            account.fans.filter(is_following=True).order_by("openid").values_list("openid", flat=True)
        )[: run.args.tagged]
        job = tag_fans("multinode", account, tag.pk, openids)
        assert isinstance(job, TagJob)
        outcome.update(tag_job_id=job.pk, tag_id=tag.pk, tag_wechat_id=tag.wechat_id, tagged=openids)
        run.note(f"tag job {job.pk} queued: {len(openids)} fans, {math.ceil(len(openids) / 50)} WeChat calls")
        third = len(openids) // 3
        _wait_for("a third of the tag job", lambda: TagJob.objects.get(pk=job.pk).done >= third, 60)
        _kill_worker_running(run, TAG_TASK, f"tag job {job.pk}")
        _wait_for(
            "the tag job to finish",
            lambda: TagJob.objects.get(pk=job.pk).status == JobStatus.DONE,
            90,
            poll=0.5,
        )
        run.note(f"tag job {job.pk} done (attempt {TagJob.objects.get(pk=job.pk).attempt})")
    except Exception as exc:  # reported, and the run fails
        run.problems.append(f"jobs: {type(exc).__name__}: {exc}")
        run.note(f"jobs: {exc}")


def load_with_web_kill(run: Run, creds: dict[str, str]) -> tuple[list[str], Sent]:
    """Callbacks through the proxy; web node A is killed at 40 % of them and started again 5 s later."""
    count = int(run.args.rate * run.args.seconds)
    deliveries = build(
        count=count,
        appid=LOAD_APPID,
        token=creds["token"],
        aes_key=creds["encoding_aes_key"],
        original_id=LOAD_ORIGINAL,
        seed=run.args.seed,
        base_time=int(time.time()) - 3600,
        fans=3000,
    )
    web = run.webs[0]

    def restart() -> None:
        web.start()
        run.note(f"{web.name} restarted (pid {web.pid})")

    def on_tick(i: int) -> None:
        if i == int(count * 0.4):
            web.kill()
            run.note(f"SIGKILL {web.name} (granian and its workers) at callback {i} of {count}")
            threading.Timer(5.0, restart).start()

    run.note(f"sending {count} callbacks at {run.args.rate:.0f}/s through the proxy")
    sent = send_all(PROXY, deliveries, run.args.rate, on_tick)
    run.note(
        f"callbacks sent in {sent.elapsed:.1f} s: {len(sent.acknowledged)} acknowledged, "
        f"{sent.retries} retries"
    )
    return [d.key for d in deliveries], sent


def drain(run: Run) -> None:
    """Stop the workers as a deploy would (SIGTERM: each finishes its task), then run what is queued."""
    for worker in run.workers:
        worker.stop()
    subprocess.run(
        [*python("-m", "liucun.cli"), "worker", "--batch", "--no-schedule"], env=run.env, cwd=REPO, check=True
    )
    run.note("workers stopped; what was still queued ran in one batch worker")


def check_events(generated: list[str], sent: Sent) -> dict[str, Any]:
    from django.db.models import Count

    from liucun.events.models import Event

    stored = Counter(
        dict(
            Event.objects.filter(account__appid=LOAD_APPID)
            .values("dedupe_key")
            .annotate(n=Count("id"))
            .values_list("dedupe_key", "n")
        )
    )
    keys = set(generated)
    return {
        "generated": len(keys),
        "acknowledged": len(sent.acknowledged),
        "refused_4xx": len(sent.refused),
        "given_up": len(sent.given_up),
        "retries": sent.retries,
        "answers": {str(k): v for k, v in sorted(sent.statuses.items())},
        "stored": sum(stored.values()),
        "lost": sum(1 for k in sent.acknowledged if stored.get(k, 0) == 0),
        "duplicated": sum(1 for k in keys if stored.get(k, 0) > 1),
        "unexpected": sum(1 for k in stored if k not in keys),
    }


def check_jobs(run: Run, outcome: dict[str, Any]) -> dict[str, Any]:
    from django_tasks_db.models import DBTaskResult

    from liucun.fans.models import Fan, SyncJob
    from liucun.tags.models import FanTag, TagJob

    result: dict[str, Any] = {}
    if "sync_id" in outcome:
        sync = SyncJob.objects.get(pk=outcome["sync_id"])
        wxsim_followers = {f["openid"] for f in outcome["control"].fans(JOBS_APPID) if f["subscribe"]}
        ours = set(
            Fan.objects.filter(account__appid=JOBS_APPID, is_following=True).values_list("openid", flat=True)
        )
        result["sync"] = {
            "status": sync.status,
            "attempt": sync.attempt,
            "seen": sync.seen,
            "created_fans": sync.created_fans,
            "followers_in_wechat": len(wxsim_followers),
            "following_in_liucun": len(ours),
            "same_followers": ours == wxsim_followers,
            "runs_that_worked": _runs_that_worked(SYNC_TASK, sync.pk),
        }
    if "tag_job_id" in outcome:
        job = TagJob.objects.get(pk=outcome["tag_job_id"])
        tagged = set(outcome["tagged"])
        in_wechat = {
            f["openid"]
            for f in outcome["control"].fans(JOBS_APPID)
            if outcome["tag_wechat_id"] in f.get("tagid_list", [])
        }
        calls = (
            [json.loads(line) for line in run.calls.read_text().splitlines()] if run.calls.exists() else []
        )
        batches = Counter(
            tuple(sorted(json.loads(c["body"])["openid_list"]))
            for c in calls
            if c["path"].endswith("/batchtagging") and c["status"] == 200
        )
        result["tag_job"] = {
            "status": job.status,
            "attempt": job.attempt,
            "done": job.done,
            "total": job.total,
            "members_in_liucun": FanTag.objects.filter(tag_id=outcome["tag_id"]).count(),
            "tagged_in_wechat": len(in_wechat),
            "same_members": in_wechat == tagged,
            "batches_expected": math.ceil(len(tagged) / 50),
            "batches_called": len(batches),
            "batch_calls": sum(batches.values()),
            "batches_called_twice": sum(1 for n in batches.values() if n > 1),
            "runs_that_worked": _runs_that_worked(TAG_TASK, job.pk),
        }
    rows = DBTaskResult.objects.all()
    result["tasks"] = {
        "rows": rows.count(),
        "by_status": dict(Counter(rows.values_list("status", flat=True))),
        "run_twice": [
            {"task": r.task_path.rsplit(".", 1)[1], "workers": len(r.worker_ids), "returned": r.return_value}
            for r in rows.order_by("enqueued_at")
            if len(r.worker_ids) > 1
        ],
    }
    return result


def _runs_that_worked(task_path: str, job_id: int) -> int:
    """Task rows for the job whose run did the work (the others found it taken and returned at once)."""
    from django_tasks_db.models import DBTaskResult

    idle = {"nothing to do", "taken over by a newer run"}
    rows = DBTaskResult.objects.filter(task_path=task_path, status="SUCCESSFUL")
    return sum(1 for r in rows if r.args_kwargs["args"][0] == job_id and r.return_value not in idle)


def verdict(report: dict[str, Any], run: Run) -> list[str]:
    """Every way the run can fail, in words; empty when it proved what it should."""
    failures = list(run.problems)
    events = report["events"]
    for name in ("lost", "duplicated", "unexpected", "given_up", "refused_4xx"):
        if events[name]:
            failures.append(f"callbacks: {events[name]} {name}")
    if events["acknowledged"] != events["generated"]:
        failures.append(f"callbacks: {events['acknowledged']} of {events['generated']} acknowledged")
    sync, tag = report["jobs"].get("sync"), report["jobs"].get("tag_job")
    if (
        sync is None
        or sync["status"] != "done"
        or not sync["same_followers"]
        or sync["runs_that_worked"] != 1
    ):
        failures.append(f"follower sync: {sync}")
    elif sync["attempt"] < 2:
        failures.append("follower sync: the killed run was never resumed (attempt 1)")
    if tag is None or tag["status"] != "done" or not tag["same_members"] or tag["runs_that_worked"] != 1:
        failures.append(f"tag job: {tag}")
    else:
        if tag["attempt"] < 2:
            failures.append("tag job: the killed run was never resumed (attempt 1)")
        if tag["members_in_liucun"] != tag["total"] or tag["batches_called"] != tag["batches_expected"]:
            failures.append(f"tag job: members or batches differ: {tag}")
        # The only call that can be made twice is the one in flight when its worker was killed: WeChat
        # answered it, but the checkpoint after it never committed. Tagging is idempotent in WeChat.
        if tag["batch_calls"] - tag["batches_called"] > 1:
            failures.append(f"tag job: {tag['batch_calls'] - tag['batches_called']} batches sent again")
    tasks = report["jobs"]["tasks"]
    if set(tasks["by_status"]) != {"SUCCESSFUL"}:
        failures.append(f"task rows not all successful: {tasks['by_status']}")
    killed_rows = [r for r in tasks["run_twice"] if r["task"] in ("sync_followers", "run_tag_job")]
    if len(killed_rows) < 2:
        failures.append(f"the killed workers' task rows were not queued again and run: {tasks['run_twice']}")
    return failures


def main() -> int:
    args = _args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print(
            "bench.multinode needs DATABASE_URL=postgres://... (scripts/multinode starts one)",
            file=sys.stderr,
        )
        return 2
    work = Path(tempfile.mkdtemp(prefix="liucun-multinode-"))
    run = Run(args, work)
    report: dict[str, Any] = {"config": {k: v for k, v in vars(args).items()}}
    outcome: dict[str, Any] = {}
    try:
        setup = set_up(run)
        outcome["control"] = setup["control"]
        jobs = threading.Thread(target=jobs_with_kills, args=(run, outcome), name="jobs")
        jobs.start()
        generated, sent = load_with_web_kill(run, setup["load"])
        jobs.join(timeout=180)
        if jobs.is_alive():
            run.problems.append("jobs: still running 180 s after the callbacks ended")
        proxy_stats = json.loads(httpx.get(f"http://127.0.0.1:{PROXY}/__proxy/stats", timeout=5).text)
        drain(run)
        report["events"] = check_events(generated, sent)
        report["proxy"] = proxy_stats
        report["jobs"] = check_jobs(run, outcome)
    except Exception as exc:
        run.problems.append(f"{type(exc).__name__}: {exc}")
        report.setdefault("events", {})
    finally:
        for node in run.every_node():
            node.stop(timeout=15)
    report["timeline"] = run.events
    report["seconds"] = round(time.monotonic() - run.started, 1)
    failures = verdict(report, run) if "jobs" in report else run.problems or ["the run did not finish"]
    report["failures"] = failures
    (work / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str))
    _print_summary(report, work)
    if not failures and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failures else 0


def _print_summary(report: dict[str, Any], work: Path) -> None:
    print("\n== multi-node run ==")
    events = report.get("events", {})
    if events:
        print(
            f"callbacks: {events['generated']} generated, {events['acknowledged']} acknowledged through the "
            f"proxy, {events['stored']} stored; lost {events['lost']}, duplicated {events['duplicated']}, "
            f"unexpected {events['unexpected']}; {events['retries']} retries (answers {events['answers']})"
        )
    if "proxy" in report:
        print(f"proxy: {report['proxy']}")
    jobs = report.get("jobs", {})
    for name in ("sync", "tag_job"):
        if name in jobs:
            print(f"{name}: {jobs[name]}")
    if "tasks" in jobs:
        print(f"task rows: {jobs['tasks']['by_status']}; run twice: {jobs['tasks']['run_twice']}")
    print(f"took {report['seconds']} s")
    if report["failures"]:
        print(f"FAILED ({len(report['failures'])}); logs in {work}/log")
        for failure in report["failures"]:
            print(f"  - {failure}")
    else:
        print("OK: zero lost, zero duplicated, every job finished once")


if __name__ == "__main__":
    sys.exit(main())
