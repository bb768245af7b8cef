"""``ecsctl ecr login [--registry REGISTRY]``"""

from __future__ import annotations

import sys
from typing import List, Optional

import typer

from ecsctl.cli import aws as aws_cli
from ecsctl.cli.boundary import boundary
from ecsctl.cli.options import EcsctlTyper, current
from ecsctl.cli.render.machine import emit

app = EcsctlTyper(help="Amazon ECR: registry logins.", no_args_is_help=True)


@app.command("login")
@boundary
def login(
    registry: Optional[List[str]] = typer.Option(
        None, "--registry", help="ACCOUNT.dkr.ecr.REGION.amazonaws.com; repeat for several (default: every ECR registry the state knows)."),
    backend: str = aws_cli.backend_option(),
    region: Optional[str] = aws_cli.region_option(),
    profile: Optional[str] = aws_cli.profile_option(),
    endpoint_url: Optional[str] = aws_cli.endpoint_option(),
) -> None:
    """Print a `docker login` command for an ECR registry, with a token valid 12 hours.

    As `aws ecr get-login-password | docker login --username AWS --password-stdin REGISTRY`.
    Against the local simulation the token is simulated: it expires 12 hours after the
    simulation's clock and no real registry accepts it; with --backend aws ECR issues a real one.
    """
    from ecsctl.app.ecr import AwsTokens, login as do_login

    opts = current()
    fmt = opts.format()
    aws = aws_cli.connect(backend, region, profile, endpoint_url)
    result = do_login(opts.state_path, registry or (), tokens=AwsTokens(aws) if aws is not None else None)
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
            lines.append(f"# REAL ECR token from GetAuthorizationToken (AWS), valid until {expiry}")
        lines.append(auth.docker_login())
    sys.stdout.write("".join(line + "\n" for line in lines))
