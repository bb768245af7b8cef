"""``ecsctl ecr login`` through Typer: a docker login with a simulated token valid 12 hours after the clock."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from ecsctl.cli.app import app

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests"
REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"


def invoke(runner, *args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_login_without_a_state_uses_the_default_clock(runner, tmp_path: Path) -> None:
    state = str(tmp_path / "none.db")
    result = invoke(runner, "ecr", "login", "--registry", f"https://{REGISTRY}/", "--state", state)
    assert result.exit_code == 0, result.output
    comment, command = result.stdout.splitlines()
    assert comment.startswith("# SIMULATED token")
    assert "valid until 2026-01-01T12:00:00Z" in comment and "clock 2026-01-01T00:00:00Z" in comment
    assert command.startswith("echo 'ecsctl-simulated.") and command.endswith(
        f"' | docker login --username AWS --password-stdin {REGISTRY}")
    assert not Path(state).exists()  # a reader never creates the state


def test_json_has_get_authorization_tokens_shape(runner, tmp_path: Path) -> None:
    result = invoke(runner, "ecr", "login", "--registry", REGISTRY, "--state", str(tmp_path / "none.db"), "-o", "json")
    body = json.loads(result.stdout)
    assert body["simulated"] is True
    (auth,) = body["authorizationData"]
    assert auth["expiresAt"] == "2026-01-01T12:00:00Z" and auth["proxyEndpoint"] == f"https://{REGISTRY}"
    user, password = base64.b64decode(auth["authorizationToken"]).decode().split(":", 1)
    assert user == "AWS" and password.startswith("ecsctl-simulated.")


@pytest.fixture
def applied(runner, tmp_path: Path) -> str:
    stack = tmp_path / "manifests"
    shutil.copytree(MANIFESTS, stack)
    state = str(tmp_path / "state.db")
    result = invoke(runner, "apply", "-f", str(stack), "--state", state, "--auto-approve")
    assert result.exit_code == 0, result.output
    return state


def test_registries_come_from_the_state_and_expiry_follows_the_clock(runner, applied: str) -> None:
    first = json.loads(invoke(runner, "ecr", "login", "--state", applied, "-o", "json").stdout)
    assert [a["registry"] for a in first["authorizationData"]] == [REGISTRY]
    clock = first["clock"]
    assert invoke(runner, "tick", "2h", "--state", applied).exit_code == 0
    later = json.loads(invoke(runner, "ecr", "login", "--state", applied, "-o", "json").stdout)
    assert later["clock"] != clock
    hours = (int(later["authorizationData"][0]["expiresAt"][11:13]) - int(later["clock"][11:13])) % 24
    assert hours == 12
    assert later["authorizationData"][0]["authorizationToken"] != first["authorizationData"][0]["authorizationToken"]


def test_no_state_and_no_registry_is_the_read_commands_missing_state(runner, tmp_path: Path) -> None:
    missing = tmp_path / "nosuch.db"
    result = runner.invoke(app, ["ecr", "login", "--state", str(missing)])
    assert (result.exit_code, result.stderr) == (1, f"error: no state at {missing}; run apply first\n")
    assert result.stdout == "" and not missing.exists()


def test_a_state_that_knows_no_registry_asks_for_one(runner, tmp_path: Path, minimal_taskdef: Path) -> None:
    state = tmp_path / "nginx.db"  # a task definition of a Docker Hub image: no ECR registry in it
    assert invoke(runner, "apply", "-f", str(minimal_taskdef), "--state", str(state), "--auto-approve").exit_code == 0
    result = runner.invoke(app, ["ecr", "login", "--state", str(state)])
    assert result.exit_code == 2 and result.stderr.startswith("error: no ECR registry is known to the state")


@pytest.mark.parametrize(("args", "fragment"), [
    (("--registry", "docker.io"), "is not an ECR registry"),
    (("--registry", REGISTRY, "-o", "xml"), "unknown output format"),
])
def test_usage_errors(runner, tmp_path: Path, args, fragment) -> None:
    result = runner.invoke(app, ["ecr", "login", "--state", str(tmp_path / "none.db"), *args])
    assert result.exit_code == 2
    assert fragment in result.stderr and "Traceback" not in result.output
