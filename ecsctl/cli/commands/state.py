"""``ecsctl state pull|push|list|unlock``"""

from __future__ import annotations

import json
import sys
from typing import Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import state_option

app = typer.Typer(help="Inspect and move the state file.", no_args_is_help=True)


@app.command("pull")
@boundary
def pull(state: Optional[str] = state_option()) -> None:
    """Print the whole state as JSON."""
    from ecsctl.app.state import pull as do_pull, state_path

    sys.stdout.write(json.dumps(do_pull(state_path(state)), indent=2, sort_keys=True) + "\n")


@app.command("push")
@boundary
def push(
    source: str = typer.Argument(..., help="A JSON file written by `ecsctl state pull` ('-' for stdin)."),
    state: Optional[str] = state_option(),
    force: bool = typer.Option(False, "--force", help="Replace a state of another lineage or a newer serial."),
) -> None:
    """Replace the state with a pulled copy (refuses another lineage or an older serial unless --force)."""
    from ecsctl.app.state import push as do_push, state_path

    meta = do_push(state_path(state), source, force=force)
    sys.stdout.write(f"State replaced: lineage {meta.lineage}, serial {meta.serial}.\n")


@app.command("list")
@boundary
def list_(state: Optional[str] = state_option(), output: str = typer.Option("text", "-o", "--output")) -> None:
    """List the addresses of managed resources."""
    from ecsctl.app.state import list_resources, state_path

    rows = list_resources(state_path(state))
    if output == "json":
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    else:
        sys.stdout.write("".join(f"{r['address']}\n" for r in rows))


@app.command("unlock")
@boundary
def unlock(lock_id: str = typer.Argument(..., help="The ID the lock message names."), state: Optional[str] = state_option()) -> None:
    """Clear a lock that was not released, only with its ID (a lock left by a process that is gone
    on this host is taken over by the next command; this is for one left on another host)."""
    from ecsctl.app.state import state_path, unlock as do_unlock

    info = do_unlock(state_path(state), lock_id)
    sys.stdout.write(f"Released {info.describe()}.\n")
