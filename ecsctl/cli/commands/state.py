"""``ecsctl state pull|push|list|unlock|verify``"""

from __future__ import annotations

import sys

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit

app = EcsctlTyper(help="Inspect and move the state file.", no_args_is_help=True)


@app.command("pull")
@boundary
def pull() -> None:
    """Print the whole state as JSON (or YAML with -o yaml)."""
    from ecsctl.app.state import pull as do_pull

    opts = current()
    fmt = opts.format(("json", "yaml", "text"))
    emit(do_pull(opts.state_path), "json" if fmt == "text" else fmt, sort_keys=True)


@app.command("push")
@boundary
def push(
    source: str = typer.Argument(..., help="A JSON file written by `ecsctl state pull` ('-' for stdin)."),
    force: bool = typer.Option(False, "--force", help="Replace a state of another lineage, a newer serial, or the same serial with other content."),
) -> None:
    """Replace the state with a pulled copy (refuses another lineage, an older serial, or the same
    serial with other content unless --force; the state as it is changes nothing)."""
    from ecsctl.app.state import push as do_push

    opts = current()
    fmt = opts.format()
    pushed = do_push(opts.state_path, source, force=force)
    meta = pushed.meta
    if fmt == "text":
        if pushed.changed:
            sys.stdout.write(f"State replaced: lineage {meta.lineage}, serial {meta.serial}.\n")
        else:
            sys.stdout.write(f"State unchanged: {pushed.source} is the state as it is (lineage {meta.lineage}, serial {meta.serial}).\n")
    else:
        emit({"lineage": meta.lineage, "serial": meta.serial, "version": meta.version, "changed": pushed.changed}, fmt)


@app.command("list")
@boundary
def list_() -> None:
    """List the addresses of managed resources."""
    from ecsctl.app.state import list_resources

    opts = current()
    fmt = opts.format()
    rows = list_resources(opts.state_path)
    if fmt == "text":
        sys.stdout.write("".join(f"{r['address']}\n" for r in rows))
    else:
        emit(rows, fmt)


@app.command("unlock")
@boundary
def unlock(lock_id: str = typer.Argument(..., help="The ID the lock message names.")) -> None:
    """Clear a lock that was not released, only with its ID (a lock left by a process that is gone
    on this host is taken over by the next command; this is for one left on another host)."""
    from ecsctl.app.state import unlock as do_unlock

    opts = current()
    fmt = opts.format()
    info = do_unlock(opts.state_path, lock_id)
    if fmt == "text":
        sys.stdout.write(f"Released {info.describe()}.\n")
    else:
        emit({"id": info.id, "pid": info.pid, "host": info.host, "command": info.command, "createdAt": info.created_at}, fmt)


@app.command("verify")
@boundary
def verify() -> None:
    """Check the state: SQLite's integrity check, the schema and serial, and the simulation's
    invariants (tasks on live instances or Fargate, resources and host ports per instance,
    services and deployments against their tasks). Exit 1 with one line per problem."""
    from ecsctl.app.state import verify as do_verify

    opts = current()
    fmt = opts.format()
    report = do_verify(opts.state_path)
    if fmt == "text":
        if report["ok"]:
            c = report["checked"]
            counted = ", ".join(_count(c[k], k[:-1]) for k in ("instances", "tasks", "services", "deployments"))
            sys.stdout.write(f"OK: {report['state']} (serial {report['serial']}): {counted} consistent\n")
        else:
            sys.stdout.write("".join(f"{line}\n" for line in report["problems"]))
            n = len(report["problems"])
            sys.stderr.write(f"error: {report['state']}: {n} problem{'s' if n != 1 else ''} found\n")
    else:
        emit(report, fmt)
    if not report["ok"]:
        raise typer.Exit(1)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
