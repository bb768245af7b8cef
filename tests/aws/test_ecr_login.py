"""``ecsctl ecr login --backend aws``: the token comes from ECR's GetAuthorizationToken (moto on loopback)."""

from __future__ import annotations

import base64

from typer.testing import CliRunner

from ecsctl.cli.app import app

REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def test_ecr_login_with_the_aws_backend_asks_ecr_and_says_it_is_real(aws_env, tmp_path) -> None:
    result = CliRunner().invoke(app, ["ecr", "login", "--backend", "aws", "--registry", REGISTRY,
                                      "--state", str(tmp_path / "none.db")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    head, command = result.stdout.splitlines()
    assert head.startswith("# REAL ECR token from GetAuthorizationToken") and "SIMULATED" not in result.stdout
    assert command.endswith(f"docker login --username AWS --password-stdin {REGISTRY}")
    assert "ecsctl-simulated" not in command


def test_the_simulated_token_says_so(tmp_path) -> None:
    result = CliRunner().invoke(app, ["ecr", "login", "--registry", REGISTRY, "--state", str(tmp_path / "none.db"),
                                      "-o", "json"], catch_exceptions=False)
    (auth,) = __import__("json").loads(result.stdout)["authorizationData"]
    assert auth["simulated"] is True and auth["expiresAt"] == "2026-01-01T12:00:00Z"
    assert base64.b64decode(auth["authorizationToken"]).decode().startswith("AWS:ecsctl-simulated.")
