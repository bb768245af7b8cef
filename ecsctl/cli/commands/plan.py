"""``ecsctl plan``, ``apply``, ``destroy`` and ``show``: plans made, applied and shown.

Exit codes (DESIGN §8): 0 when the result is what was asked; 1 on an error, or when apply
(or destroy) ran but left a deployment failed, rolled back or stalled, or a service below its
desired count (the last line names each); 2 on usage (and ``plan --detailed-exitcode`` with
changes).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from ecsctl.cli import aws as aws_cli
from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import current
from ecsctl.errors import EcsctlError, UsageError

_FILES_HELP = "Manifest files or directories (repeatable)."
_SENSITIVE_HELP = "Do not mask values that look like secrets."


def _files_option():
    return typer.Option(None, "-f", "--file", help=_FILES_HELP)


def _delete_left_out_option():
    return typer.Option(
        False, "--delete-left-out",
        help="The files given to -f are the whole stack: delete what they no longer declare even when a manifest "
             "beside them (or one an exclude glob left out) still declares it, as with dev.yaml and prod.yaml, two "
             "stacks in one folder. Without it such a plan is refused.")


def _exclude_option():
    return typer.Option(None, "--exclude", metavar="GLOB",
                        help="Leave out paths matching GLOB under the folders given to -f (repeatable; also lines of "
                             ".ecsctlignore), as validate does.")


def _need_files(command: str, files) -> list[str]:
    """(``ecsctl plan DIR``, without ``-f``, gets its hint from ``options.usage_line``.)"""
    if not files:
        raise UsageError(f"{command} needs manifests: ecsctl {command} -f DIR")
    return list(files)


def _read(files: list[str], fmt: str, delete_left_out: bool = False, exclude=None):
    """Load the manifests; invalid ones are shown (as JSON/YAML on stdout with ``-o``) and refused."""
    from ecsctl.app.plan import ManifestErrors, read_manifests
    from ecsctl.cli.commands.validate import write_notes
    from ecsctl.cli.render import findings

    notes: list[str] = []
    try:
        inputs = read_manifests(files, notes, guard_left_out=not delete_left_out, exclude=tuple(exclude or ()))
    except ManifestErrors as exc:
        write_notes(notes)
        if fmt == "text":
            sys.stderr.write(findings.render_text(exc.report, color=current().color(sys.stderr)))
        else:
            sys.stdout.write(findings.RENDERERS[fmt](exc.report))
        raise
    write_notes(notes)
    return inputs


def _check_out(out: str | None) -> None:
    """``--out FILE`` must be a file in an existing folder: refused before any planning."""
    from ecsctl.app.out_path import out_problem

    problem = out_problem(out) if out else None
    if problem is None:
        return
    why, where = problem
    if why == "folder":
        raise UsageError(f"--out {out}: is a folder; give the plan a file name, e.g. --out {where / 'plan.json'}")
    raise UsageError(f"--out {out}: folder {where} {why}")


def _render(the_plan, fmt: str, *, full: bool = False, show_sensitive: bool = False, stream=None) -> str:
    from ecsctl.cli.render.machine import dump
    from ecsctl.cli.render.plan import render_plan_text
    from ecsctl.core.plan.codec import plan_json_view

    if fmt == "text":
        return render_plan_text(the_plan, color=current().color(stream or sys.stdout), full=full, show_sensitive=show_sensitive)
    return dump(plan_json_view(the_plan, show_sensitive=show_sensitive), fmt)


class PlanChanges(SystemExit):
    """``plan --detailed-exitcode`` exiting 2 because apply would change something; ``cli.main``
    tells it from a usage error, which exits 2 too and there becomes 1."""

    def __init__(self) -> None:
        super().__init__(2)


@boundary
def plan(
    files: Optional[List[str]] = _files_option(),
    out: Optional[str] = typer.Option(None, "--out", help="Save the plan to FILE for `ecsctl apply FILE`."),
    detailed_exitcode: bool = typer.Option(False, "--detailed-exitcode", help="Exit 0 with no changes, 2 with changes, 1 on error."),
    full: bool = typer.Option(False, "--full", help="Print unchanged fields too."),
    show_sensitive: bool = typer.Option(False, "--show-sensitive", help=_SENSITIVE_HELP),
    destroy: bool = typer.Option(False, "--destroy", help="Plan the deletion of what the manifests describe (as `ecsctl destroy`)."),
    delete_left_out: bool = _delete_left_out_option(),
    exclude: Optional[List[str]] = _exclude_option(),
    backend: str = aws_cli.backend_option(),
    region: Optional[str] = aws_cli.region_option(),
    profile: Optional[str] = aws_cli.profile_option(),
    endpoint_url: Optional[str] = aws_cli.endpoint_option(),
    adopt: bool = aws_cli.adopt_option(),
) -> None:
    """Diff the manifests against the state and show what apply would do."""
    from ecsctl.app.backend_of import AWS, LOCAL, check_backend
    from ecsctl.app.destroy import make_destroy_plan
    from ecsctl.app.plan import make_plan, save_plan
    from ecsctl.app.state import open_existing

    opts = current()
    fmt = opts.format()
    files = _need_files("plan", files)
    _check_out(out)
    aws = aws_cli.connect(backend, region, profile, endpoint_url)
    if destroy and aws is not None:
        raise UsageError("--destroy plans deletions in the simulation; on real ECS remove the manifests and plan "
                         "with --backend aws")
    inputs = _read(files, fmt, delete_left_out, exclude)
    store = open_existing(opts.state_path)
    try:
        if store is not None:
            check_backend(store, AWS if aws is not None else LOCAL, opts.state_path)
        if destroy:
            the_plan = make_destroy_plan(inputs, store)
        elif aws is not None:
            from ecsctl.app.aws import plan_live

            the_plan = plan_live(inputs, store, aws, adopt=adopt)
        else:
            the_plan = make_plan(inputs, store)
    finally:
        if store is not None:
            store.close()
    sys.stdout.write(_render(the_plan, fmt, full=full, show_sensitive=show_sensitive))
    if out:
        apply_it = save_plan(the_plan, out, manifests=inputs.files, paths=files, state=opts.state, exclude=inputs.exclude)
        sys.stderr.write(f"Saved the plan to {out}; apply it with: {apply_it}\n")
    if detailed_exitcode and (the_plan.has_changes or the_plan.reconcile):  # apply would change something
        raise PlanChanges()


def _load_plan_file(plan_file: str, command: str):
    """A saved plan, parsed (``SavedPlan``: apply checks its manifests later, under the lock, after the
    state); ``ecsctl apply manifests/`` or ``apply web.yaml`` get a hint: manifests go after ``-f``."""
    from ecsctl.app.plan import read_saved_plan
    from ecsctl.app.state import file_is_sqlite
    from ecsctl.app.validate import is_manifest_file
    from ecsctl.errors import InputError

    path = Path(plan_file)
    meant = "apply -f" if command == "apply" else "plan -f"
    if path.is_dir() or path.suffix.lower() in (".yaml", ".yml"):
        what = "a folder" if path.is_dir() else "a manifest file"
        raise UsageError(f"{plan_file} is {what}, not a saved plan: did you mean `ecsctl {meant} {plan_file}`?")
    sqlite = file_is_sqlite(plan_file)
    if sqlite == "state":
        hint = (f"to read it use `ecsctl --state {plan_file} get KIND`, `describe KIND NAME` or `state pull`"
                if command == "show" else f"did you mean `ecsctl --state {plan_file} {command} -f DIR`?")
        raise UsageError(f"{plan_file} is an ecsctl state file (SQLite), not a saved plan: {hint}")
    if sqlite is not None:
        raise UsageError(f"{plan_file} is a SQLite database, not a saved plan (`ecsctl plan --out FILE` saves one)")
    try:
        return read_saved_plan(plan_file)
    except InputError as exc:
        not_a_plan = "not an ecsctl plan file" in str(exc) or "not a saved plan" in str(exc)
        if not_a_plan and is_manifest_file(plan_file):
            raise UsageError(f"{plan_file} is a manifest, not a saved plan: did you mean `ecsctl {meant} {plan_file}`?") from None
        raise


@boundary
def apply(
    plan_file: Optional[str] = typer.Argument(None, help="A plan saved by `ecsctl plan --out FILE`."),
    files: Optional[List[str]] = _files_option(),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask for confirmation (for CI)."),
    show_sensitive: bool = typer.Option(False, "--show-sensitive", help=_SENSITIVE_HELP),
    delete_left_out: bool = _delete_left_out_option(),
    exclude: Optional[List[str]] = _exclude_option(),
    skip_manifest_check: bool = typer.Option(
        False, "--skip-manifest-check",
        help="Apply a saved PLANFILE as saved, without checking that its manifests are unchanged (they are not "
             "here, e.g. a CI artefact). A plan that left sensitive values out still needs them."),
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
    """Apply the manifests (or a saved plan) to the local simulation, or with --backend aws to real ECS.

    Exit 0 only when the result is what was asked; 1 when a deployment failed, was rolled back
    or is stalled, or a service is left below its desired count (the last line says which).
    """
    from ecsctl.app.backend_of import AWS, LOCAL, check_backend
    from ecsctl.app.plan import check_fresh, checked_plan, make_plan
    from ecsctl.app.state import open_store, upgrade_addresses

    opts = current()
    fmt = opts.format()
    if plan_file and files:
        raise UsageError("give either -f DIR (plan and apply the manifests) or a saved PLANFILE, not both")
    if not plan_file and not files:
        raise UsageError("apply needs manifests or a saved plan: ecsctl apply -f DIR, or ecsctl apply PLANFILE")
    if delete_left_out and plan_file:
        raise UsageError("--delete-left-out is for manifests: the saved plan's deletions were decided when it was made")
    if exclude and plan_file:
        raise UsageError("--exclude is for manifests: the saved plan records the globs it was made with")
    if skip_manifest_check and not plan_file:
        raise UsageError("--skip-manifest-check is for a saved plan: ecsctl apply PLANFILE --skip-manifest-check")
    aws = aws_cli.connect(backend, region, profile, endpoint_url)
    if wait and aws is None:
        raise UsageError("--wait follows deployments on real ECS: it needs --backend aws")
    saved = _load_plan_file(plan_file, "apply") if plan_file else None
    wanted = AWS if aws is not None else LOCAL
    if saved is not None and saved.plan.backend and saved.plan.backend != wanted:
        raise UsageError(f"{plan_file} was planned against " + ("real ECS: apply it with --backend aws (and --region)"
                         if saved.plan.backend == AWS else "the local simulation: apply it without --backend aws"))
    _need_terminal(auto_approve)
    # the lock first: a second writer is refused at once, before any manifest is read
    with open_store(opts.state_path) as store, store.locked("ecsctl apply"):
        check_backend(store, wanted, opts.state_path)
        inputs = _read(list(files), fmt, delete_left_out, exclude) if files else None
        if inputs is not None:
            upgrade_addresses(store)
            if aws is not None:
                from ecsctl.app.aws import plan_live

                the_plan = plan_live(inputs, store, aws, adopt=adopt)
            else:
                the_plan = make_plan(inputs, store)
        else:
            check_fresh(saved.plan, store, saved.again())  # a state moved on first, then manifests that changed since the plan
            the_plan = checked_plan(saved, check_manifests=not skip_manifest_check)
        if aws is not None:
            machine = fmt != "text"
            if not machine:
                sys.stdout.write(_render(the_plan, fmt, show_sensitive=show_sensitive))
                if not the_plan.steps:
                    return  # the plan says "No changes to apply"
            elif not auto_approve and the_plan.steps:  # the document goes to stdout once, at the end
                sys.stderr.write(_render(the_plan, "text", show_sensitive=show_sensitive, stream=sys.stderr))
            if the_plan.steps and not auto_approve:
                _confirm("apply", machine)
            aws_cli.run_apply(the_plan, store, aws, adopt=adopt, events_role=events_role, parallelism=parallelism,
                              wait=wait, wait_timeout=wait_timeout, fmt=fmt, show_sensitive=show_sensitive)
            return
        _execute(the_plan, store, fmt, auto_approve=auto_approve, show_sensitive=show_sensitive, verb="apply")


@boundary
def destroy(
    files: Optional[List[str]] = _files_option(),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="Do not ask for confirmation (for CI)."),
    show_sensitive: bool = typer.Option(False, "--show-sensitive", help=_SENSITIVE_HELP),
    exclude: Optional[List[str]] = _exclude_option(),
) -> None:
    """Delete what the manifests describe, and what in the state refers to it; asks like apply."""
    from ecsctl.app.backend_of import LOCAL, check_backend
    from ecsctl.app.destroy import make_destroy_plan
    from ecsctl.app.plan import NoManifests
    from ecsctl.app.state import open_required, upgrade_addresses

    opts = current()
    fmt = opts.format()
    files = _need_files("destroy", files)
    _need_terminal(auto_approve, "destroy")
    # the lock first, as apply: a second writer is refused at once, before any manifest is read
    with open_required(opts.state_path) as store, store.locked("ecsctl destroy"):
        check_backend(store, LOCAL, opts.state_path)  # destroy deletes in the simulation only
        try:
            inputs = _read(files, fmt, exclude=exclude)
        except NoManifests:
            raise NoManifests(f"no manifests in {', '.join(files)}: destroy deletes what the manifests "
                              "describe, and nothing here describes anything") from None
        upgrade_addresses(store)
        the_plan = make_destroy_plan(inputs, store)
        _execute(the_plan, store, fmt, auto_approve=auto_approve, show_sensitive=show_sensitive, verb="destroy")


@boundary
def show(
    plan_file: str = typer.Argument(..., metavar="PLANFILE", help="A plan saved by `ecsctl plan --out FILE`."),
    full: bool = typer.Option(False, "--full", help="Print unchanged fields too."),
    show_sensitive: bool = typer.Option(False, "--show-sensitive", help=_SENSITIVE_HELP),
) -> None:
    """Print a saved plan without applying it (and say whether the state has moved on since)."""
    from ecsctl.app.plan import StalePlan, check_fresh
    from ecsctl.app.planfile import ManifestsChanged
    from ecsctl.app.state import open_existing

    opts = current()
    fmt = opts.format()
    saved = _load_plan_file(plan_file, "show")
    the_plan = saved.plan  # printed masked: no manifests needed
    sys.stdout.write(_render(the_plan, fmt, full=full, show_sensitive=show_sensitive))
    store = open_existing(opts.state_path)
    if store is not None:
        with store:
            try:
                check_fresh(the_plan, store, saved.again())
            except StalePlan as exc:
                sys.stderr.write(f"note: apply would refuse this plan: {exc}\n")
    try:
        saved.check_manifests()
    except ManifestsChanged as exc:
        sys.stderr.write(f"note: apply would refuse this plan: {exc}\n")


# --- running a plan ------------------------------------------------------------------------------


def _need_terminal(auto_approve: bool, verb: str = "apply") -> None:
    if not auto_approve and not sys.stdin.isatty():
        raise UsageError(f"no terminal to confirm on: pass --auto-approve to {verb} without asking")


def _confirm(verb: str, machine: bool) -> None:
    question = ("Destroy these resources? There is no undo. Only 'yes' will be accepted" if verb == "destroy"
                else "Apply these changes? Only 'yes' will be accepted")
    answer = typer.prompt(question, default="", show_default=False, err=machine)
    if answer.strip() != "yes":
        sys.stderr.write(f"{verb.capitalize()} cancelled.\n")
        raise typer.Exit(1)


def _execute(the_plan, store, fmt: str, *, auto_approve: bool, show_sensitive: bool, verb: str) -> None:
    """Show the plan, confirm, apply it, judge the outcome; one document on stdout with ``-o json|yaml``."""
    from ecsctl.app.outcome import apply_outcome
    from ecsctl.app.backend_of import LOCAL
    from ecsctl.app.plan import backend_for, clusters_to_reconcile, record_applied

    machine = fmt != "text"
    if not machine:
        sys.stdout.write(_render(the_plan, fmt, show_sensitive=show_sensitive))
    results = [{"id": s.id, "action": s.action, "address": s.address, "result": "pending"} for s in the_plan.steps]
    if not the_plan.steps and not clusters_to_reconcile(the_plan):
        # nothing to do, but a deployment left stalled (or a service short of tasks) is still not
        # what was asked: the exit code says so on every run, not only on the one that left it
        if verb == "apply":  # where the manifests are now, when the state does not say it yet
            record_applied(the_plan, store, LOCAL)
        outcome = apply_outcome(the_plan, store)
        if machine:
            _report(the_plan, outcome, results, fmt, verb, show_sensitive=show_sensitive)
        elif verb == "destroy":  # the plan's text says "No changes."
            sys.stdout.write("Nothing to destroy: the state holds nothing the manifests describe.\n")
        elif not outcome["ok"]:
            sys.stdout.write(_message(the_plan, outcome, results, verb) + "\n")
        if verb != "destroy" and not outcome["ok"]:
            raise typer.Exit(1)
        return
    if not auto_approve:
        if machine:  # the document goes to stdout once, at the end; the reviewer reads the plan here
            sys.stderr.write(_render(the_plan, "text", show_sensitive=show_sensitive, stream=sys.stderr))
        _confirm(verb, machine)
    try:
        _run(the_plan, store, backend_for(store), results)
    except EcsctlError as exc:
        failed = next((r for r in results if r["result"] == "pending"), None)
        if failed is not None:
            failed["result"] = "failed"
            failed["error"] = str(exc)
        for r in results:
            if r["result"] == "pending":
                r["result"] = "not run"
        if machine:
            _report(the_plan, None, results, fmt, verb, show_sensitive=show_sensitive, error=str(exc))
        raise
    outcome = apply_outcome(the_plan, store)
    _report(the_plan, outcome, results, fmt, verb, show_sensitive=show_sensitive)
    if not outcome["ok"]:
        raise typer.Exit(1)


def _run(the_plan, store, backend, results: list[dict]) -> None:
    from ecsctl.app.plan import apply_plan

    def done(n: int) -> None:
        results[n - 1]["result"] = "applied"

    if current().color(sys.stderr):
        from rich.progress import Progress

        with Progress(transient=True) as progress:
            bar = progress.add_task("Applying", total=len(the_plan.steps))
            # one bar per rolling deployment, moved by the scheduler's rounds
            rollouts = {d["service"]: progress.add_task(f"deployment of {d['service']}: {d['from']} -> {d['to']}",
                                                        total=max(1, len(d.get("steps") or ())))
                        for d in the_plan.deployments}

            def on_step(step, n, total):
                done(n)
                progress.update(bar, completed=n, description=f"{step.id}")

            def on_round():  # the scheduler's rounds: each deployment takes at most one step per round
                for key in rollouts.values():
                    progress.advance(key)

            apply_plan(the_plan, store, backend, on_step, on_round)
    else:
        rounds = 0

        def on_step(step, n, total):
            done(n)
            sys.stderr.write(f"[{n}/{total}] {step.id}: done\n")

        def on_round():
            nonlocal rounds
            rounds += 1
            sys.stderr.write(f"[scheduler] round {rounds}: done\n")

        apply_plan(the_plan, store, backend, on_step, on_round)


def _counts(the_plan, results: list[dict]) -> str:
    from ecsctl.cli.render.plan import apply_counts

    return apply_counts(the_plan.summary, sum(1 for r in results if r["result"] == "applied"))


def _message(the_plan, outcome: dict | None, results: list[dict], verb: str, error: str | None = None) -> str:
    """The last line: what was done, or which part of the result is not what was asked."""
    from ecsctl.app.plan import clusters_to_reconcile

    if error is not None:
        return f"{verb.capitalize()} failed: {error}"
    if not outcome["ok"]:
        return f"{verb.capitalize()} incomplete: " + "; ".join(outcome["problems"]) + "."
    if not results and not clusters_to_reconcile(the_plan):
        return "Nothing to destroy." if verb == "destroy" else "No changes."
    from ecsctl.core.plan.model import service_key

    gone = {c.address for c in the_plan.changes if c.action == "delete"}
    short = sorted({service_key(d.address)[0] for d in the_plan.drift
                    if d.field == "runningCount" and d.address.startswith("service/") and d.address not in gone
                    and f"cluster/{service_key(d.address)[0]}" not in gone})
    # tasks lost, or never placed before: started now (the outcome above found every service at its count)
    extra = f"; services short of tasks brought to their desired count in cluster {', '.join(short)}" if short else ""
    return f"{verb.capitalize()} complete! {_counts(the_plan, results)}{extra}."


def _report(the_plan, outcome: dict | None, results: list[dict], fmt: str, verb: str, *,
            show_sensitive: bool, error: str | None = None) -> None:
    message = _message(the_plan, outcome, results, verb, error)
    if fmt != "text":
        from ecsctl.cli.render.machine import emit
        from ecsctl.core.plan.codec import plan_json_view

        emit({
            "ok": bool(outcome and outcome["ok"]) and error is None,
            "message": message,
            "plan": plan_json_view(the_plan, show_sensitive=show_sensitive),
            "results": results,
            "deployments": (outcome or {}).get("deployments", []),
            "belowDesired": (outcome or {}).get("belowDesired", []),
            "problems": (outcome or {}).get("problems", []) + ([error] if error else []),
        }, fmt)
        return
    lines = []
    for d in (outcome or {}).get("deployments", []):
        lines.append(f"Deployment of {d['service']}: {d['taskDefinition']} {d['rolloutState']}, "
                     f"{d['runningCount']}/{d['desiredCount']} running"
                     + (f" ({d['reason']})" if d["rolloutState"] != "COMPLETED" and d["reason"] else "") + ".")
    if outcome is not None and not outcome["ok"]:
        lines.append(f"Applied {_counts(the_plan, results)}.")
    lines.append(message)
    sys.stdout.write("".join(line + "\n" for line in lines))
