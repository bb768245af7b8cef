"""``ecsctl plan -f DIR`` and ``ecsctl apply -f DIR | PLANFILE``."""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from ecsctl.cli import aws as aws_cli
from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import state_option, use_color
from ecsctl.errors import UsageError


def _show_manifest_errors(exc) -> None:
    from ecsctl.cli.render.findings import render_text

    sys.stderr.write(render_text(exc.report, color=use_color(False, sys.stderr)))


def _render(plan, output: str, *, full: bool, show_sensitive: bool, no_color: bool) -> str:
    from ecsctl.cli.render.plan import render_plan_json, render_plan_text

    if output == "json":
        return render_plan_json(plan, show_sensitive=show_sensitive)
    if output != "text":
        raise UsageError(f"unknown output format '{output}' (text or json)")
    return render_plan_text(plan, color=use_color(no_color), full=full, show_sensitive=show_sensitive)


def _make(files: List[str], state: str, aws=None, adopt: bool = False):
    from ecsctl.app.plan import ManifestErrors, make_plan, read_manifests
    from ecsctl.app.state import open_existing

    try:
        inputs = read_manifests(files)
    except ManifestErrors as exc:
        _show_manifest_errors(exc)
        raise
    store = open_existing(state)
    try:
        if aws is not None:
            from ecsctl.app.aws import plan_live

            return plan_live(inputs, store, aws, adopt=adopt)
        return make_plan(inputs, store)
    finally:
        if store is not None:
            store.close()


@boundary
def plan(
    files: List[str] = typer.Option(..., "-f", "--file", help="Manifest files or directories (repeatable)."),
    state: Optional[str] = state_option(),
    output: str = typer.Option("text", "-o", "--output", help="text or json."),
    out: Optional[str] = typer.Option(None, "--out", help="Save the plan to FILE for `ecsctl apply FILE`."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode", help="Exit 0 with no changes, 2 with changes, 1 on error."),
    full: bool = typer.Option(False, "--full", help="Print unchanged fields too."),
    show_sensitive: bool = typer.Option(False, "--show-sensitive", help="Do not mask values that look like secrets."),
    no_color: bool = typer.Option(False, "--no-color", help="No ANSI colours (also NO_COLOR)."),
    backend: str = aws_cli.backend_option(),
    region: Optional[str] = aws_cli.region_option(),
    profile: Optional[str] = aws_cli.profile_option(),
    endpoint_url: Optional[str] = aws_cli.endpoint_option(),
    adopt: bool = aws_cli.adopt_option(),
) -> None:
    """Diff the manifests against the state and show what apply would do."""
    from ecsctl.app.plan import save_plan
    from ecsctl.app.state import state_path

    path = state_path(state)
    the_plan = _make(files, path, aws_cli.connect(backend, region, profile, endpoint_url), adopt)
    sys.stdout.write(_render(the_plan, output, full=full, show_sensitive=show_sensitive, no_color=no_color))
    if out:
        save_plan(the_plan, out)
        sys.stderr.write(f"Saved the plan to {out}; apply it with: ecsctl apply {out}\n")
    if detailed_exitcode and the_plan.has_changes:
        raise typer.Exit(2)


@boundary
def apply(
    plan_file: Optional[str] = typer.Argument(None, help="A plan saved by `ecsctl plan --out FILE`."),
    files: Optional[List[str]] = typer.Option(None, "-f", "--file", help="Manifest files or directories (repeatable)."),
    state: Optional[str] = state_option(),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask for confirmation (for CI)."),
    output: str = typer.Option("text", "-o", "--output", help="text or json (the plan that is applied)."),
    show_sensitive: bool = typer.Option(False, "--show-sensitive", help="Do not mask values that look like secrets."),
    no_color: bool = typer.Option(False, "--no-color", help="No ANSI colours (also NO_COLOR)."),
    backend: str = aws_cli.backend_option(),
    region: Optional[str] = aws_cli.region_option(),
    profile: Optional[str] = aws_cli.profile_option(),
    endpoint_url: Optional[str] = aws_cli.endpoint_option(),
    adopt: bool = aws_cli.adopt_option(),
    events_role: Optional[str] = aws_cli.events_role_option(),
    parallelism: int = aws_cli.parallelism_option(),
    wait: bool = aws_cli.wait_option(),
    wait_timeout: float = aws_cli.wait_timeout_option(),
) -> None:
    """Apply the manifests (or a saved plan) to the local simulation, or with --backend aws to real ECS."""
    from ecsctl.app.plan import backend_for, check_fresh, clusters_to_reconcile, load_plan, make_plan, read_manifests
    from ecsctl.app.state import open_store, state_path

    if bool(plan_file) == bool(files):
        raise UsageError("give either -f DIR (plan and apply) or a saved PLANFILE")
    path = state_path(state)
    aws = aws_cli.connect(backend, region, profile, endpoint_url)
    if wait and aws is None:
        raise UsageError("--wait follows deployments on real ECS: it needs --backend aws")
    inputs = None
    if files:
        from ecsctl.app.plan import ManifestErrors

        try:
            inputs = read_manifests(files)
        except ManifestErrors as exc:
            _show_manifest_errors(exc)
            raise
    with open_store(path) as store, store.locked("ecsctl apply"):
        if inputs is not None and aws is not None:
            from ecsctl.app.aws import plan_live

            the_plan = plan_live(inputs, store, aws, adopt=adopt)
        else:
            the_plan = make_plan(inputs, store) if inputs is not None else load_plan(plan_file)
        if plan_file:
            check_fresh(the_plan, store)
        sys.stdout.write(_render(the_plan, output, full=False, show_sensitive=show_sensitive, no_color=no_color))
        if not the_plan.steps and not clusters_to_reconcile(the_plan):
            return
        if not auto_approve:
            _confirm()
        if aws is not None:
            aws_cli.run_apply(the_plan, store, aws, adopt=adopt, events_role=events_role, parallelism=parallelism,
                              wait=wait, wait_timeout=wait_timeout)
            return
        _run(the_plan, store, backend_for(store), no_color=no_color)


def _confirm() -> None:
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on: pass --auto-approve to apply without asking")
    answer = typer.prompt("Apply these changes? Only 'yes' will be accepted", default="", show_default=False)
    if answer.strip() != "yes":
        sys.stderr.write("Apply cancelled.\n")
        raise typer.Exit(1)


def _run(the_plan, store, backend, *, no_color: bool) -> None:
    from ecsctl.app.plan import apply_plan

    if sys.stderr.isatty() and not no_color:
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            bar = progress.add_task("Applying", total=len(the_plan.steps))
            # one bar per rolling deployment, filled when its service step has stepped it through
            rollouts = {d["service"]: progress.add_task(f"deployment of {d['service']}: {d['from']} -> {d['to']}",
                                                        total=max(1, len(d.get("steps") or ())))
                        for d in the_plan.deployments}

            def on_step(step, n, total):
                progress.update(bar, completed=n, description=f"{step.id}")
                if step.address in rollouts:
                    progress.update(rollouts[step.address], completed=progress.tasks[rollouts[step.address]].total)

            applied = apply_plan(the_plan, store, backend, on_step)
    else:
        def on_step(step, n, total):
            sys.stderr.write(f"[{n}/{total}] {step.id}: done\n")

        applied = apply_plan(the_plan, store, backend, on_step)
    from ecsctl.app.plan import clusters_to_reconcile

    summary = the_plan.summary
    topped_up = clusters_to_reconcile(the_plan)
    extra = f"; lost tasks replaced in cluster {', '.join(topped_up)}" if topped_up else ""
    from ecsctl.app.plan import deployment_outcomes

    for d in deployment_outcomes(the_plan, store):
        sys.stdout.write(f"Deployment of {d['service']}: {d['taskDefinition']} {d['rolloutState']}, "
                         f"{d['runningCount']}/{d['desiredCount']} running"
                         + (f" ({d['reason']})" if d["rolloutState"] != "COMPLETED" and d["reason"] else "") + ".\n")
    sys.stdout.write(f"Apply complete! {applied} step(s): {summary['create']} created, {summary['update']} updated, "
                     f"{summary['replace']} replaced, {summary['delete']} destroyed{extra}.\n")
