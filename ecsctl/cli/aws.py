"""``--backend aws`` on plan, apply and get: the options and what the commands do with them.

The commands keep their local behaviour; with ``--backend aws`` they call into here:
``connect`` (a session from ``--region``, ``--profile``, ``--endpoint-url``), ``run_apply``
(the executor, its report, ``--wait``) and ``get_rows``.
"""

from __future__ import annotations

import sys

import typer

from collections import Counter

from ecsctl.core.aws.drift import CHECKED_ONLY
from ecsctl.errors import UsageError

BACKENDS = ("local", "aws")


def backend_option():
    return typer.Option("local", "--backend", help="local (the simulation in the state file) or aws (real ECS through boto3; pip install 'ecsctl\\[aws]').")


def region_option():
    return typer.Option(None, "--region", help="AWS region (--backend aws; default AWS_REGION or the profile's).")


def profile_option():
    return typer.Option(None, "--profile", help="AWS profile (--backend aws; default AWS_PROFILE).")


def endpoint_option():
    return typer.Option(None, "--endpoint-url", help="Send AWS calls to this endpoint (--backend aws; e.g. a local test server).")


def adopt_option():
    return typer.Option(False, "--adopt", help="--backend aws: take over resources that exist in AWS but not in the state.")


def events_role_option():
    return typer.Option(None, "--events-role", help="--backend aws: IAM role (name or ARN) EventBridge runs scheduled tasks with (default ecsEventsRole).")


def parallelism_option():
    return typer.Option(4, "--parallelism", min=1, max=32, help="--backend aws: independent steps run at once.")


def wait_option():
    return typer.Option(False, "--wait", help="--backend aws: follow each deployment to steady state or failure.")


def wait_timeout_option():
    return typer.Option(1800.0, "--wait-timeout", min=1.0, help="--wait: give up after this many seconds.")


def connect(backend: str, region, profile, endpoint_url):
    """``None`` for the local backend, else an ``Aws`` session."""
    if backend not in BACKENDS:
        raise UsageError(f"unknown backend '{backend}' (local or aws)")
    if backend == "local":
        if region or profile or endpoint_url:
            raise UsageError("--region, --profile and --endpoint-url need --backend aws")
        return None
    from ecsctl.app.aws import connect as make

    return make(region=region, profile=profile, endpoint_url=endpoint_url)


_RESULT = {"done": "applied", "failed": "failed", "skipped": "not run", "unrecorded": "applied, not recorded"}


def _first_of(problems: list[str]) -> str:
    """The last line names the first problem and counts the rest (the report above lists them)."""
    if len(problems) == 1:
        return problems[0]
    return f"{len(problems)} problems (listed above); the first: {problems[0]}"


def run_apply(the_plan, store, aws, *, adopt: bool, events_role, parallelism: int, wait: bool,
              wait_timeout: float, poll: float = 15.0, sleep=None, fmt: str = "text", show_sensitive: bool = False) -> None:
    """Apply through the AWS backend, optionally follow the deployments, report once (text, or
    with ``-o json|yaml`` one document: ``ok``, ``message``, ``plan``, ``results``,
    ``deployments``, ``problems``, as the local apply's); exit 1 unless everything went as asked."""
    from ecsctl.app import aws as use
    from ecsctl.cli.render.plan import apply_counts

    backend = use.backend(store, aws, adopt=adopt, events_role=events_role, parallelism=parallelism)

    def on_step(result, n, total):
        mark = {"done": "done", "failed": "FAILED", "skipped": "not done", "unrecorded": "done, NOT recorded"}[result.status]
        sys.stderr.write(f"[{n}/{total}] {result.step.id}: {mark}" + (f" ({result.detail})" if result.detail else "") + "\n")

    execution = use.apply_live(the_plan, store, backend, on_step=on_step)
    summary = the_plan.summary
    lines = [] if execution.ok else execution.report().splitlines()
    problems = [f"{r.step.id}: {r.detail}" for r in execution.failed + execution.unrecorded]
    problems += [f"{r.step.id}: not run (waits for {r.detail})" for r in execution.skipped]
    followed = _wait(the_plan, execution, aws, wait_timeout, poll, sleep) if wait else []
    if not wait and execution.ok:
        for line in _forecast_shortfalls(the_plan, execution):
            sys.stderr.write(f"note: {line}\n")
    problems += [f"deployment of {r.describe()}" for r in followed if r.outcome != "COMPLETED"]
    lines += [f"Deployment of {r.describe()}" for r in followed]
    checked = Counter(r.step.action for r in execution.done if r.step.kind in CHECKED_ONLY)
    message = (f"Apply incomplete: {_first_of(problems)}." if problems else
               f"Apply complete! {apply_counts(summary, len(execution.done), checked)}." if execution.results
               else "No changes.")
    if fmt == "text":
        sys.stdout.write("".join(line + "\n" for line in [*lines, message]))
    else:
        from ecsctl.cli.render.machine import emit
        from ecsctl.core.plan.codec import plan_json_view

        emit({"ok": not problems, "message": message, "plan": plan_json_view(the_plan, show_sensitive=show_sensitive),
              "results": [{"id": r.step.id, "action": r.step.action, "address": r.step.address,
                           "result": _RESULT[r.status],  # a failure's text is its error, as the local apply's
                           **({"error" if r.status == "failed" else "detail": r.detail} if r.detail else {})}
                          for r in execution.results],
              "deployments": [{"service": f"service/{r.cluster}/{r.service}", "taskDefinition": r.task_definition,
                               "rolloutState": r.outcome, "runningCount": r.running, "desiredCount": r.desired,
                               **({"reason": r.stall.describe()} if r.stall else {})} for r in followed],
              "problems": problems}, fmt)
    if problems:
        raise typer.Exit(1)


def _forecast_shortfalls(the_plan, execution) -> list[str]:
    """For an apply that does not wait: the services it changed that the plan's forecast says
    will run fewer tasks than they ask (exit 0 means AWS accepted every call, not that)."""
    from ecsctl.app import aws as use

    applied = {f"service/{c}/{n}" for c, n in use.services_to_follow(the_plan, execution)}
    out = []
    for p in the_plan.predictions:
        if p.get("address") in applied and int(p.get("short") or 0):
            why = p.get("reason") or str(p.get("failing") or "").split(":", 1)[0] or "see the plan"
            out.append(f"the plan forecast {p['address']} {p['short']} of {p['wanted']} task(s) short ({why}); "
                       "--wait follows the deployment and exits 1 unless it completes")
    return out


def _wait(the_plan, execution, aws, timeout: float, poll: float, sleep) -> list:
    """Follow the deployments the apply started until each settles (or ``timeout``); their results."""
    from ecsctl.app import aws as use

    services = use.services_to_follow(the_plan, execution)
    if not services:
        return []
    predicted = use.predicted_steps(the_plan)
    last: dict = {}

    def on_update(cluster, name, primary):
        counts = (primary.get("runningCount", 0), primary.get("pendingCount", 0), primary.get("desiredCount", 0))
        if last.get((cluster, name)) == counts:
            return
        last[(cluster, name)] = counts
        steps = predicted.get(f"service/{cluster}/{name}") or []
        plan_text = ""
        if steps:
            plan_text = "; plan: " + " -> ".join(f"{s['oldRunning']} old/{s['newRunning']} new" for s in steps)
        sys.stderr.write(f"deployment of service/{cluster}/{name}: {counts[0]} running, {counts[1]} pending of {counts[2]}"
                         f" ({primary.get('rolloutState', '?')}){plan_text}\n")

    return use.follow(aws, services, poll=poll, timeout=timeout, sleep=sleep, on_update=on_update)


def get_rows(aws, kind: str, name: str | None = None, *, cluster, status) -> list[dict]:
    from ecsctl.app.aws import get_live

    return get_live(aws, kind, name, cluster=cluster, status=status)
