"""``ecsctl ecr login [--registry REGISTRY]``"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit

app = EcsctlTyper(help="Amazon ECR: registry logins.", no_args_is_help=True)


@app.command("login")
@boundary
def login(
    registry: Optional[List[str]] = typer.Option(
        None, "--registry", help="ACCOUNT.dkr.ecr.REGION.amazonaws.com; repeat for several (default: every ECR registry the state knows)."),
) -> None:
    """Print a `docker login` command for an ECR registry, with a token valid 12 hours.

    As `aws ecr get-login-password | docker login --username AWS --password-stdin REGISTRY`.
    Against the local simulation the token is simulated: it expires 12 hours after the
    simulation's clock and no real registry accepts it.
    """
    from ecsctl.app.ecr import login as do_login

    opts = current()
    fmt = opts.format()
    result = do_login(opts.state_path, registry or ())
    if fmt != "text":
        emit({"simulated": result["simulated"], "clock": result["clock"],
              "authorizationData": [a.as_json(result["clock"]) for a in result["logins"]]}, fmt)
        return
    lines = []
    for auth in result["logins"]:
        expiry = auth.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        if auth.simulated:
            lines.append(f"# SIMULATED token (ecsctl's local simulation; no real registry accepts it), "
                         f"valid until {expiry}: 12 hours after the simulation clock {result['clock']}")
        else:
            lines.append(f"# ECR token valid until {expiry}")
        lines.append(auth.docker_login())
    sys.stdout.write("".join(line + "\n" for line in lines))
